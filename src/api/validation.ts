/** What the routes need from request validation; implemented over the schema catalogue. */
export interface RequestValidator {
  /** Whether `/calls/{id}/actions/{name}` exists with this method. */
  hasAction(name: string, method: 'POST' | 'PUT'): boolean;
  /** The body, checked against the named schema; throws a 422 ApiError listing every bad field. */
  validate(schemaName: string, body: unknown): Record<string, unknown>;
}
