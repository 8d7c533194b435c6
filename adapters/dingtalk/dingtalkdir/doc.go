// Package dingtalkdir reads a DingTalk organisation for dirsync: the
// department tree breadth-first (topapi/v2/department/listsub, then
// department/get for each department's managers), then the members of each
// department (topapi/v2/user/list with its cursor), with the app's access
// token. DingTalk lists only current members, so a person who left is
// simply absent. DingTalk pushes address-book change events
// (user_add_org, user_modify_org, user_leave_org, org_dept_*) over the
// Stream connection, naming only ids: DecodeOrgEvent turns one into
// dirsync.Events to look up, and the Source's Person and Dept
// (topapi/v2/user/get, department/get) read them back (events.go).
//
// It imports bots/dirsync and the adapters' shared cursor, nothing else of
// flowbot.
package dingtalkdir
