import type { Clock } from '../../src/lib/clock.js';

/** A clock tests move by hand. Starts at the real time so tokens verify against real clocks too. */
export class TestClock implements Clock {
  private current: number;
  constructor(start: Date = new Date()) {
    this.current = start.getTime();
  }
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}
