// Package wecomdir reads a WeCom (企业微信) address book for dirsync: every
// department (cgi-bin/department/list, with its leaders), then the members
// of each department (cgi-bin/user/list), one department per page, with
// the app's access token. A member whose status is disabled (2) or quit (5)
// is inactive. WeCom pushes address-book change events
// (change_contact: create_user, update_user, delete_user, *_party) to the
// app's callback: DecodeChangeContact turns one into a dirsync.Event
// (update_user carries only the changed fields, listed in Event.Fields),
// which the WeCom adapter hands to the directory (events.go).
//
// It imports bots/dirsync and the adapters' shared cursor, nothing else of
// flowbot.
package wecomdir
