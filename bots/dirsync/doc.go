// Package dirsync keeps the directory in step with the chat platforms'
// own directories (Feishu contacts, DingTalk's organisation, WeCom's
// departments and users, Microsoft Graph): it fetches every configured
// Source page by page, merges the accounts into one directory and either
// prints what would change (a dry run, Plan.Format) or applies it in one
// ReplaceDirectory.
//
// Merging: an account is the same person as a directory user when a
// configured mapping says so, when the user is already linked to that
// account, or when the email or the mobile number match. An account that
// points at two different users, or at a user already linked to another
// account of the same platform, is a Conflict: reported, never guessed,
// and left out. A user managed by sync (linked to a synced platform) whose
// accounts all disappeared or were disabled departs: kept for the audit
// trail with Departed set and no platform links, never given new tasks.
// Managers and department heads are taken from the platforms on every run.
//
// Progress is durable: after every page the cursor and what was fetched so
// far are saved (StateStore), so a crashed sync resumes where it stopped;
// the progress is cleared once the directory is replaced. Pages are paced
// by a rate limiter and a source that answers RateLimited is retried after
// the wait it asks for.
//
// Incremental sync: ApplyEvent applies one platform change event (decoded
// by the platform's adapter: Feishu contact events, WeCom change_contact,
// DingTalk org events) to the platform's last listing and merges again, so
// that it comes out as a full sync of the same data would. Events may
// carry only the fields that changed (Event.Fields), a renamed account id
// (Event.OldID), or only an id to read back through the Source (Lookup).
// Poll reads a polled change feed (Graph's users delta, Feed) from its
// saved link and applies each change.
//
// Departments: each platform's departments are the platform's own
// (DeptID), unless Config.DeptMapping maps them to a directory department,
// which then takes the people and heads of every platform mapped to it;
// the other departments of a mapped platform are reported (Plan.Unmapped).
//
// dirsync sits under bots because the platform adapters implement its
// Source (an adapter may import bots only). It imports flows and nothing
// of the adapters or stores; cmd/flowbot wires the sources and the store.
package dirsync
