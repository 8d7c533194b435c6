// Package api serves the open REST API under /api/v1: requests, tasks,
// flows, the directory, statistics and exports, for callers holding an
// API token (package api/tokens). It owns authentication (bearer tokens,
// scopes, per-token rate limits), request size limits, the error body
// {"error":{"code","message","request_id"}}, the request id carried into
// every log line, the OpenAPI document (openapi.json, embedded) and the
// reference page that renders it.
//
// Who may do what is decided by the flow core (flows/rights.go and the
// engine); this package only maps a token to the acting user and the
// user's rights to HTTP. It declares the small interfaces it needs
// (Engine, Queries) and imports flows and api/tokens, never a store or cmd.
package api
