/** The admin API's response shape: `{ success, message, data }`. */
export interface ApiEnvelope<T> {
  success: boolean;
  message: string;
  data: T;
}

export function ok<T>(data: T, message = 'OK'): ApiEnvelope<T> {
  return { success: true, message, data };
}
