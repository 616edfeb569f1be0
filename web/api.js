// The one small client for ticketd's REST API. Every failure becomes an ApiError carrying the
// API's error list ({message, field}), so pages can show messages next to their fields.

export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.map((e) => e.message).join(' '));
    this.status = status;
    this.errors = errors;
  }
}

export async function api(method, path, body) {
  const options = { method, credentials: 'same-origin', headers: {} };
  if (body !== undefined) {
    options.headers['Content-Type'] = 'application/json';
    options.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, options);
  } catch {
    throw new ApiError(0, [{ message: 'Cannot reach the server. Check your connection and try again.' }]);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const errors = data && Array.isArray(data.errors) ? data.errors : [{ message: 'Something went wrong' }];
    throw new ApiError(res.status, errors);
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
