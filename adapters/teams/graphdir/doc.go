// Package graphdir reads a Microsoft 365 tenant's users for dirsync
// through Microsoft Graph (GET /v1.0/users with $expand=manager, following
// @odata.nextLink), with a client-credentials token for
// https://graph.microsoft.com/.default. The account id is the user's AAD
// object id, the id the Teams adapter knows a sender by. Graph has no
// department tree: a department is the user's department text (its id is
// that text), without a head. A disabled account (accountEnabled false) is
// inactive; a deleted one is absent. Graph offers delta queries
// (/users/delta) for incremental syncs; this source does not use them yet:
// every sync is a full listing.
//
// It imports bots/dirsync, nothing else of flowbot.
package graphdir
