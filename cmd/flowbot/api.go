package main

// adminAPI mounts the REST API (restapi.go). The operator endpoints, e.g.
// GET /api/v1/admin/outbox, are part of it now: they need a token with the
// admin scope, and api.admin_token stays a bootstrap token with that scope.
func (a *app) adminAPI() {
	if err := a.restAPI(); err != nil {
		a.log.Error("REST API off", "err", err)
	}
}
