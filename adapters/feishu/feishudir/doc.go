// Package feishudir reads a Feishu (Lark) tenant's contact directory for
// dirsync: the departments (contact/v3 departments/0/children with
// fetch_child) and then the direct members of each department
// (contact/v3 users/find_by_department), page by page, with the app's
// tenant access token. Resigned or frozen users are inactive. Feishu also
// pushes contact change events (contact.user.*_v3,
// contact.department.*_v3): DecodeEvent turns one into a dirsync.Event,
// which the Feishu adapter hands to the directory (events.go).
//
// It imports bots/dirsync, the adapters' shared cursor and the Feishu
// SDK's contact types, nothing else of flowbot.
package feishudir
