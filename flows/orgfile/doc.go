// Package orgfile reads the organisation (users and departments) from a
// file and checks it as a whole before anything is used. It imports only
// package flows, the standard library and gopkg.in/yaml.v3.
//
// YAML (keys are the yaml tags of flows.User and flows.Department):
//
//	departments:
//	  - {id: eng, name: 研发部, name_en: Engineering, head: lilei, parent: exec}
//	users:
//	  - id: lilei
//	    name: 李雷
//	    email: lilei@example.com
//	    dept: eng
//	    manager: wang
//	    roles: [employee]
//	    locale: zh-CN
//	    tz: Asia/Shanghai
//	    platforms: {feishu: ou_1a2b, wecom: LiLei, dingtalk: "0123", teams: 29:1abc, web: lilei}
//
// CSV: a users file whose header names its columns, in any order:
//
//	id,name,email,dept,manager,roles,locale,tz,feishu,wecom,dingtalk,teams
//
// id and name are required, the others optional; columns with other names
// (an Excel export's 工号, 职位...) are ignored, a known column given twice
// is a mistake. Roles are separated by ";". In both formats the web id
// defaults to the user id, and an email, when given, must be a bare address
// such as lilei@example.com. Optionally a second file whose name contains
// "departments" has the columns id,name,name_en,head,parent (id and name
// required). Each CSV file is checked on its own (a users CSV cannot check
// departments); use Validate to check both together.
package orgfile
