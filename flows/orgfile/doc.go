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
// CSV: a users file with the header
//
//	id,name,email,dept,manager,roles,locale,tz,feishu,wecom,dingtalk,teams
//
// (roles separated by ";"). In both formats the web id defaults to the user id, and optionally a
// second file whose name contains "departments" with the header
// id,name,name_en,head,parent. Each CSV file is checked on its own (a users
// CSV cannot check departments); use Validate to check both together.
package orgfile
