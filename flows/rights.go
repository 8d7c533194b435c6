package flows

// The rules of who may do what to a request. The engine enforces them on
// every call; the chat layer may ask them first so as not to offer what
// would be refused.

// CanWithdraw returns nil when actor may withdraw in: the applicant, while
// the request is open.
func CanWithdraw(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if !in.Status.Open() {
		return Errorf(CodeConflict, "request_closed", map[string]any{"number": in.Number, "status": in.Status})
	}
	return nil
}

// CanResubmit returns nil when actor may amend and resubmit in: the
// applicant, while it is returned to them.
func CanResubmit(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if in.Status != StatusReturned {
		return Errorf(CodeConflict, "not_returned", map[string]any{"number": in.Number})
	}
	return nil
}

// CanUrge returns nil when actor may urge in's approvers: the applicant,
// while it is pending (the rate limit is checked by Urge).
func CanUrge(in *Instance, actor string) error {
	if in.Applicant != actor {
		return Errorf(CodeForbidden, "not_applicant", nil)
	}
	if in.Status != StatusPending {
		return Errorf(CodeConflict, "request_closed", map[string]any{"number": in.Number, "status": in.Status})
	}
	return nil
}
