/** Each key optional; an explicit undefined means "leave as it is". */
export type Changes<T> = { [K in keyof T]?: T[K] | undefined };
