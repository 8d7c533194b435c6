package flows

import (
	"errors"
	"fmt"
	"maps"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// Code classifies an Error; the web and API layers map it to an HTTP status.
type Code string

const (
	CodeInvalid     Code = "invalid"      // bad input: 400
	CodeForbidden   Code = "forbidden"    // the actor may not do this: 403
	CodeNotFound    Code = "not_found"    // 404
	CodeConflict    Code = "conflict"     // already decided, closed: 409
	CodeRateLimited Code = "rate_limited" // 429
)

// Error is a user-safe error: the bot shows Message(locale), the API maps
// Code to a status. Anything that is not an *Error is internal.
type Error struct {
	Code Code
	Key  string         // message key, see messages
	Args map[string]any // named arguments of the message
	// Fields holds per-field problems of a form (field id -> message).
	Fields map[string]flowdef.Text
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message("en"))
}

// Message renders the error for a locale ("zh-CN", "en").
func (e *Error) Message(locale string) string {
	t, ok := messages[e.Key]
	if !ok {
		t = flowdef.Text{ZH: e.Key, EN: e.Key}
	}
	args := e.Args
	if st, ok := args["status"]; ok {
		args = maps.Clone(args)
		args["status"] = StatusText(fmt.Sprint(st), locale)
	}
	for k, v := range args {
		if t, ok := v.(flowdef.Text); ok { // a step's name, in the reader's language
			args = maps.Clone(args)
			args[k] = t.In(locale)
		}
	}
	if o, ok := args["outcome"].(string); ok {
		args = maps.Clone(args)
		args["outcome"] = StatusText(outcomeStatus[o], locale)
	}
	return expand(t.In(locale), args)
}

// statusTexts name instance and task states for users.
var statusTexts = map[string]flowdef.Text{
	"pending":     {ZH: "审批中", EN: "pending"},
	"queued":      {ZH: "排队中", EN: "queued"},
	"returned":    {ZH: "已退回待修改", EN: "returned for changes"},
	"approved":    {ZH: "已同意", EN: "approved"},
	"rejected":    {ZH: "已拒绝", EN: "rejected"},
	"withdrawn":   {ZH: "已撤回", EN: "withdrawn"},
	"failed":      {ZH: "失败", EN: "failed"},
	"transferred": {ZH: "已转交", EN: "transferred"},
	"cancelled":   {ZH: "已取消", EN: "cancelled"},
	"expired":     {ZH: "已超时", EN: "expired"},
	"sent_back":   {ZH: "已退回到之前的步骤", EN: "sent back to an earlier step"},
	"reject":      {ZH: "拒绝", EN: "reject"},
}

// outcomeStatus names an on_reject outcome in messages.
var outcomeStatus = map[string]string{"end": "reject", "return": "returned", "send_back": "sent_back"}

// StatusText names an instance or task status in a locale.
func StatusText(status, locale string) string {
	if t, ok := statusTexts[status]; ok {
		return t.In(locale)
	}
	return status
}

// Errorf builds an *Error.
func Errorf(code Code, key string, args map[string]any) *Error {
	return &Error{Code: code, Key: key, Args: args}
}

// ErrorCode returns the code of an *Error in err's chain, or "" for internal errors.
func ErrorCode(err error) Code {
	var fe *Error
	if errors.As(err, &fe) {
		return fe.Code
	}
	return ""
}

// expand replaces {name} by args[name].
func expand(s string, args map[string]any) string {
	if len(args) == 0 {
		return s
	}
	out := make([]byte, 0, len(s)+16)
	for i := 0; i < len(s); i++ {
		if s[i] == '{' {
			if j := indexByte(s[i:], '}'); j > 0 {
				if v, ok := args[s[i+1:i+j]]; ok {
					out = fmt.Append(out, v)
					i += j
					continue
				}
			}
		}
		out = append(out, s[i])
	}
	return string(out)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// messages are the user-facing texts of engine errors.
var messages = map[string]flowdef.Text{
	"flow_unknown":              {ZH: "没有名为「{flow}」的流程。", EN: "There is no flow called \"{flow}\"."},
	"flow_not_allowed":          {ZH: "你没有发起「{flow}」的权限。", EN: "You may not start \"{flow}\"."},
	"user_unknown":              {ZH: "通讯录里没有用户 {user}。", EN: "User {user} is not in the directory."},
	"delegate_self":             {ZH: "不能委托给自己。", EN: "You cannot delegate to yourself."},
	"delegate_dates":            {ZH: "日期「{from}」「{to}」看不懂，请写成 2026-12-01 这样。", EN: "Cannot read the dates \"{from}\" \"{to}\"; write them like 2026-12-01."},
	"delegate_order":            {ZH: "结束日期 {to} 早于开始日期 {from}。", EN: "The end date {to} is before the start date {from}."},
	"delegate_past":             {ZH: "委托期在 {to} 已经结束。", EN: "That period ended on {to}."},
	"form_invalid":              {ZH: "表单有误：{detail_zh}", EN: "The form has mistakes: {detail}"},
	"instance_unknown":          {ZH: "找不到申请 {ref}。", EN: "Request {ref} was not found."},
	"task_unknown":              {ZH: "找不到这个审批任务。", EN: "This approval task was not found."},
	"not_assignee":              {ZH: "这条审批不是你的，审批人是 {assignee}。", EN: "This approval is not yours; it is assigned to {assignee}."},
	"already_decided":           {ZH: "已由 {by} 处理（{status}）。", EN: "Already decided by {by} ({status})."},
	"request_closed":            {ZH: "申请 {number} 已结束（{status}），不能再操作。", EN: "Request {number} is closed ({status}); nothing more can be done."},
	"not_applicant":             {ZH: "只有申请人可以这样做。", EN: "Only the applicant can do this."},
	"not_participant":           {ZH: "你不是这条申请的参与人。", EN: "You are not a participant of this request."},
	"urge_too_soon":             {ZH: "刚催办过，请 {minutes} 分钟后再试。", EN: "You urged recently; try again in {minutes} min."},
	"reason_required":           {ZH: "请填写理由。", EN: "Please give a reason."},
	"transfer_self":             {ZH: "不能转交给自己或当前审批人。", EN: "You cannot transfer to yourself or to a current approver."},
	"signer_invalid":            {ZH: "不能加签这个人：{detail}", EN: "Cannot add this signer: {detail}"},
	"not_returned":              {ZH: "申请 {number} 不在待修改状态。", EN: "Request {number} is not waiting for changes."},
	"already_submitted":         {ZH: "这份申请已经提交过了，发送 /mine 查看。", EN: "This request was submitted already; send /mine to see it."},
	"signer_position":           {ZH: "加签位置只能是 before（之前）、after（之后）或 alongside（同时）。", EN: "The signer's position must be before, after or alongside."},
	"signer_self":               {ZH: "不能加签自己。", EN: "You cannot add yourself as a signer."},
	"signer_applicant":          {ZH: "不能加签申请人 {name}：申请人不能审批自己的申请。", EN: "You cannot add the applicant {name}: nobody approves their own request."},
	"signer_already":            {ZH: "{name} 已经是这一步的审批人。", EN: "{name} is already an approver of this step."},
	"transfer_applicant":        {ZH: "不能转交给申请人 {name}：申请人不能审批自己的申请。", EN: "You cannot transfer to the applicant {name}: nobody approves their own request."},
	"not_your_turn":             {ZH: "还没轮到你审批。", EN: "It is not your turn to decide yet."},
	"stats_not_allowed":         {ZH: "你没有查看统计的权限：只有部门负责人、管理员和审计员可以查看。", EN: "You may not see statistics: only department heads, admins and auditors can."},
	"admin_only":                {ZH: "只有管理员可以这样做。", EN: "Only an admin can do this."},
	"rating_range":              {ZH: "评分须为 1 到 5。", EN: "A rating is from 1 to 5."},
	"rating_too_long":           {ZH: "评价最多 {max} 个字。", EN: "A rating's comment has at most {max} characters."},
	"rating_off":                {ZH: "这个流程不收集满意度评价。", EN: "This flow does not ask for ratings."},
	"rating_not_done":           {ZH: "申请结束后才能评价。", EN: "A request can be rated once it is finished."},
	"rating_twice":              {ZH: "你已经评价过这条申请了。", EN: "You have rated this request already."},
	"comment_empty":             {ZH: "评论不能为空。", EN: "A comment cannot be empty."},
	"reply_to_required":         {ZH: "请说明回复谁的评论。", EN: "Say whose comment this replies to."},
	"reply_self":                {ZH: "不能回复自己的评论。", EN: "You cannot reply to your own comment."},
	"reply_not_participant":     {ZH: "{name} 不是这条申请的参与人，不能回复。", EN: "{name} is not a participant of this request; nothing to reply to."},
	"outcome_not_offered":       {ZH: "「{step}」这一步不能选择“{outcome}”。", EN: "The step \"{step}\" does not offer \"{outcome}\"."},
	"outcome_with_approve":      {ZH: "同意时不能同时选择驳回方式或退回的步骤。", EN: "An approval cannot also choose a rejection outcome or a step to send back to."},
	"to_step_required":          {ZH: "请选择要退回到的步骤。", EN: "Choose the step to send it back to."},
	"to_step_without_send_back": {ZH: "只有“退回到之前的步骤”需要选择步骤。", EN: "Only a send-back names a step."},
	"step_not_passed":           {ZH: "不能退回到「{step}」：这条申请在本轮还没有经过这一步。", EN: "Cannot send it back to \"{step}\": this request has not passed that step on its current route."},

	// Leave balances and cancelling an approved request (balance.go, cancel.go).
	"balance_bad":          {ZH: "假期余额的 {what} 不合法（年份 2000–2200，天数 0–366）。", EN: "The {what} of the leave balance is not valid (year 2000–2200, days 0–366)."},
	"balance_not_yours":    {ZH: "只能查看自己的假期余额。", EN: "You can only see your own leave balance."},
	"balance_short":        {ZH: "{type}余额不足：剩余 {left} 天，本次申请 {days} 天。", EN: "Not enough {type}: {left} day(s) left, this request takes {days}."},
	"cancel_no_rule":       {ZH: "「{flow}」没有撤销规则，已通过的申请不能撤销。", EN: "\"{flow}\" has no cancel rule: an approved request cannot be cancelled."},
	"cancel_started":       {ZH: "{number} 已于 {date} 开始，开始后不能再撤销。", EN: "{number} began on {date}; it can no longer be cancelled."},
	"cancel_not_approved":  {ZH: "{number} 当前{status}，只有已通过的申请可以撤销。", EN: "{number} is {status}; only an approved request can be cancelled."},
	"cancel_not_applicant": {ZH: "只有申请人可以撤销 {number}。", EN: "Only the applicant may cancel {number}."},
	"cancel_open":          {ZH: "{number} 已有撤销申请 {cancel} 在审批中。", EN: "{number} already has a cancel request, {cancel}, pending."},
	"cancel_bad_target":    {ZH: "请填写要撤销的申请编号，例如 LEAVE-20261205-0001。", EN: "Give the number of the request to cancel, e.g. LEAVE-20261205-0001."},
	"cancel_wrong_flow":    {ZH: "{number} 不能通过「{flow}」撤销。", EN: "{number} cannot be cancelled through \"{flow}\"."},
}
