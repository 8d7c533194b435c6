package api

import (
	_ "embed"
	"net/http"
)

// OpenAPIDoc is the OpenAPI 3.1 document of this API, kept in openapi.json.
//
//go:embed openapi.json
var OpenAPIDoc []byte

//go:embed docs.html
var docsPage []byte

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request, _ *caller) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(OpenAPIDoc)
	return nil
}

func (s *Server) docs(w http.ResponseWriter, r *http.Request, _ *caller) error {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
	_, _ = w.Write(docsPage)
	return nil
}
