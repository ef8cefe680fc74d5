import type { Context } from 'koa';

/** A parameter of the matched route's path (`/admin/clients/:id` → `id`), decoded by the router. */
export function pathParameter(ctx: Context, name: string): string {
  const params = (ctx as Context & { params?: Record<string, string | undefined> }).params;
  const value = params?.[name];
  if (value === undefined) throw new Error(`the route has no path parameter "${name}"`);
  return value;
}
