// Package workcal owns the business calendar: working hours, weekends,
// public holidays and make-up working days (调休), and counting deadlines in
// working time. It imports only the standard library and gopkg.in/yaml.v3;
// loading the file is the caller's job.
//
// Calendar file (YAML):
//
//	timezone: Asia/Shanghai
//	hours: "09:00-18:00"
//	weekend: [sat, sun]
//	holidays:              # days off although weekdays; a range is from..to
//	  - 2026-10-01..2026-10-07
//	  - 2026-01-01
//	workdays:              # make-up working days although weekends
//	  - 2026-09-27
package workcal
