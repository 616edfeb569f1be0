// The one small client for ticketd's REST API. Every failure becomes an ApiError carrying the
// API's error list ({message, field}), so pages can show messages next to their fields.

export class ApiError extends Error {
  constructor(status, errors) {
    super(errors.map((e) => e.message).join(' '));
    this.status = status;
    this.errors = errors;
  }
}

// The parsed body and the response's headers.
async function send(method, path, body) {
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
  if (res.status === 204) return { data: null, headers: res.headers };
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
  return { data, headers: res.headers };
}

export async function api(method, path, body) {
  return (await send(method, path, body)).data;
}

// A listing page and the number of matches before paging (X-Total-Count).
export async function getPage(path) {
  const { data, headers } = await send('GET', path);
  return { items: data, total: Number(headers.get('X-Total-Count') ?? data.length) };
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);
