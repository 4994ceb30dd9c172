// HTTP API client: every non-2xx answer becomes an ApiError carrying the server's error body.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export async function apiFetch(baseUrl, path, init = {}) {
  let response;
  try {
    response = await fetch(`${baseUrl}${path}`, { cache: "no-store", ...init });
  } catch (err) {
    throw new ApiError(0, "network_error", "The service cannot be reached. Check your connection and try again.");
  }
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, body.code || "http_error", body.message || `HTTP ${response.status}`);
  }
  return response;
}
