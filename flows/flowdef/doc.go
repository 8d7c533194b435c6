// Package flowdef owns flow definitions: it reads the YAML a flow is written
// in, checks every part of it (reporting each mistake with file:line:col),
// compiles step conditions with github.com/expr-lang/expr, and turns form
// answers (canonical values, JSON or what people type in a chat) into
// canonical Values. It also draws a flow as a Mermaid chart and renders the
// request of an http step. It imports only the standard library, yaml.v3 and
// expr; never flows, bots, adapters or store.
//
// # Format
//
// Keys are snake_case. Texts are `{zh: 请假, en: Leave}` or one plain string
// for both languages. Durations are 30m, 8h, 2d or 1d12h (d = 24h; in a
// working-calendar flow each 24h counts as one working day). A full example:
//
//	id: leave                   # ^[a-z][a-z0-9_-]*$, required
//	name: {zh: 请假, en: Leave}
//	description: {zh: 年假、病假、事假, en: "Annual, sick or personal leave"}
//	aliases: [leave, 请假, qingjia]  # chat commands that start the flow
//	number_prefix: LEAVE        # LEAVE-20261126-0007; default the upper-cased id
//	start: everyone             # or {roles: [hr], departments: [eng]}
//	calendar: working           # calendar (default, wall-clock) | working
//	deadline:                   # default of every step
//	  remind_after: 4h
//	  remind_every: 4h
//	  escalate_after: 1d
//	  escalate_to: [{manager: 1}]   # levels up from the assignee
//	  timeout_after: 3d
//	  on_timeout: none          # none | approve | reject
//	fields:
//	  - id: type                # ^[a-z][a-z0-9_]*$; usable in conditions
//	    type: select            # text textarea number money date daterange
//	                            # select multiselect user bool
//	    label: {zh: 类型, en: Type}
//	    help: {zh: 选择假期类型, en: Pick the kind of leave}
//	    required: true
//	    options:                # select and multiselect only
//	      - {value: annual, label: {zh: 年假, en: Annual}}
//	      - sick                # value and label at once
//	    default: annual         # checked like an answer
//	  - id: period
//	    type: daterange
//	    min: 1                  # numbers, money (major units), text length,
//	    max: 30                 # daterange days (calendar), multiselect count
//	  - id: amount
//	    type: money
//	    currency: CNY           # CNY (default) | USD
//	  - id: approver
//	    type: user              # a directory user id
//	steps:
//	  - id: manager
//	    name: {zh: 上级审批, en: Manager}
//	    kind: approve           # approve (default) | notify | http
//	    approvers:              # who decides
//	      - manager: 1          # 1 = direct manager, 2 = the manager's manager
//	      - dept_head: true     # head of the applicant's department
//	      - role: hr
//	      - user: lilei
//	      - field: approver     # a user field of the form
//	    mode: any               # any (或签, default) | all (会签) | sequence (依次)
//	    on_reject: end          # end (default) | return (back to the applicant), or the
//	                            # list of outcomes the approver chooses from, the first
//	                            # being a plain reject: [end, return, send_back]
//	                            # (send_back: to an earlier step of the request)
//	    on_empty: fallback      # skip (default) | fallback
//	    fallback: [{role: admin}]
//	    cc: [{role: hr}]
//	    deadline: {remind_after: 2h}   # merged key by key with the flow's
//	  - id: hr
//	    when: period.days > 3 && type != "sick"
//	    approvers: [{role: hr}]
//	  - id: tell
//	    kind: notify
//	    cc: [{manager: 1}]
//	    notify: {zh: 已批准, en: Approved}
//	  - id: erp
//	    kind: http
//	    http:
//	      method: POST          # GET POST PUT PATCH DELETE
//	      url: https://erp.example.com/leave
//	      headers: {Authorization: Bearer xyz}
//	      body: '{"number": {{ json .Instance.Number }}, "days": {{ .Form.period.Days }}}'
//	      timeout: 5s           # default 10s
//	      retries: 2            # extra attempts, default 2
//	      on_failure: continue  # fail (default) | continue
//
// # Deadlines
//
// A step's deadline is merged key by key with the flow's: each key the step
// gives replaces the flow's, the others are inherited. A step with
// `deadline: {remind_after: 1h}` in a flow with `remind_every: 4h,
// timeout_after: 3d` reminds after 1h, then every 4h, and times out after
// 3d. `on_timeout: none` in a step turns off the flow's auto-approve or
// auto-reject; a duration cannot be unset (leave it out of the flow default
// instead). escalate_to and on_timeout need escalate_after and
// timeout_after in the step or the flow.
//
// # HTTP steps
//
// The worst case of an http step, timeout × (retries + 1) plus the waits
// between attempts (200ms, 400ms, 800ms, then 2s each), must be at most 40s
// (MaxHTTPWorstCase): the call runs while the notifier leases its outbox
// message (1 minute, work finished within 45s), and a longer call would be
// handed to a second worker and made twice. Loading refuses a longer step
// with a file:line error; the default 10s × 3 attempts + 0.6s = 30.6s
// fits, 10s with retries: 3 (41.4s) does not.
//
// # Conditions
//
// `when` is an expr expression that must be boolean. It sees every field by
// id: number and money as float64 (money in major units: `amount > 5000`),
// date as "2006-01-02" string, daterange as {from, to, days, workdays}
// (days: calendar days, both ends included, so Friday to Monday is 4;
// workdays: the working days among them on the business calendar when the
// engine evaluates with EnvOn, Monday to Friday with Env), multiselect as
// []string, bool as bool, the rest as strings; and `applicant` with id,
// name, dept, roles and manager (`"finance" in applicant.roles`).
//
// # Values
//
// CheckForm, Normalize and ParseInput accept canonical values, JSON-decoded
// ones and human answers: money "¥1,234.50", "1234.50 CNY", "$12" (parsed as
// decimal into cents); dates "2026-12-01", "2026/12/01", "12-01", "today",
// "明天"; ranges "2026-12-01 to 2026-12-03", "2026-12-01~2026-12-03",
// "2026-12-01 至 2026-12-03" (one date = one day); options by value, label or
// number; multiselect separated by commas, "，", "、" or spaces; bool yes/no,
// 是/否, 1/0.
package flowdef
