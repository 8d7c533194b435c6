// Package graphdir reads a Microsoft 365 tenant's users for dirsync
// through Microsoft Graph (GET /v1.0/users with $expand=manager, following
// @odata.nextLink), with a client-credentials token for
// https://graph.microsoft.com/.default. The account id is the user's AAD
// object id, the id the Teams adapter knows a sender by. Graph has no
// department tree: a department is the user's department text (its id is
// that text), without a head. A disabled account (accountEnabled false) is
// inactive; a deleted one is absent. The full sync is a listing; between
// syncs, Source.Changes reads the users delta query (/users/delta, the
// changed properties only) as a dirsync.Feed that dirsync.Syncer.Poll
// polls (delta.go, DecodeDelta).
//
// It imports bots/dirsync, nothing else of flowbot.
package graphdir
