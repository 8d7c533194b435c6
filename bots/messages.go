package bots

import (
	"fmt"
	"slices"
	"strings"

	"github.com/flowbot/flowbot/flows/flowdef"
)

// DefaultLocale is the locale of users who have none.
const DefaultLocale = "zh-CN"

// T renders the catalog text key in locale ("zh..." = Chinese, anything
// else = English), replacing {name} by args[name]. An unknown key renders
// as the key itself so that a missing text is visible, not silent.
func T(locale, key string, args map[string]any) string {
	t, ok := catalog[key]
	if !ok {
		return key
	}
	return expand(t.In(locale), args)
}

// MessageKeys lists the keys of the catalog, sorted.
func MessageKeys() []string {
	keys := make([]string, 0, len(catalog))
	for k := range catalog {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MessageText returns the Chinese and English texts of key.
func MessageText(key string) (flowdef.Text, bool) {
	t, ok := catalog[key]
	return t, ok
}

// isZH reports whether locale is Chinese.
func isZH(locale string) bool { return strings.HasPrefix(strings.ToLower(locale), "zh") }

// expand replaces {name} by args[name]; unknown names stay as they are.
func expand(s string, args map[string]any) string {
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	var sb strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			sb.WriteString(s)
			return sb.String()
		}
		sb.WriteString(s[:i])
		if v, ok := args[s[i+1:i+j]]; ok {
			fmt.Fprint(&sb, v)
		} else {
			sb.WriteString(s[i : i+j+1])
		}
		s = s[i+j+1:]
	}
}

// catalog holds every user-facing text of the chat layer. Read-only.
var catalog = map[string]flowdef.Text{
	// Identity, limits, failures.
	"unknown_user": {
		ZH: "抱歉，通讯录里找不到你，暂时无法使用审批机器人。请联系 {admin} 开通。\nSorry, you are not in the directory yet, so I cannot help you. Please ask {admin} to add you.",
		EN: "抱歉，通讯录里找不到你，暂时无法使用审批机器人。请联系 {admin} 开通。\nSorry, you are not in the directory yet, so I cannot help you. Please ask {admin} to add you.",
	},
	"admin_default":  {ZH: "管理员 / your administrator", EN: "管理员 / your administrator"},
	"internal_error": {ZH: "系统内部错误，请稍后重试。", EN: "Internal error, please try again in a moment."},
	"state_down": {
		ZH: "暂时无法继续对话，请稍后再试。\nCannot continue the conversation right now, please try again shortly.",
		EN: "暂时无法继续对话，请稍后再试。\nCannot continue the conversation right now, please try again shortly.",
	},
	"too_long":     {ZH: "消息太长了（{size} 个字，上限 {max} 个字）。请精简后再发。", EN: "Your message is too long ({size} characters, the limit is {max}). Please shorten it."},
	"empty_hint":   {ZH: "发送 /help 查看可用命令，或发送 /flows 查看可以发起的流程。", EN: "Send /help to see what I can do, or /flows for the flows you can start."},
	"help_hint":    {ZH: "发送 /help 查看所有命令。", EN: "Send /help to see all commands."},
	"unknown_cmd":  {ZH: "没有「{cmd}」这个命令。", EN: "Unknown command \"{cmd}\"."},
	"did_you_mean": {ZH: "你是不是想用 /{cmd}？", EN: "Did you mean /{cmd}?"},
	"not_understood": {
		ZH: "没看懂「{text}」。如果你在回答我的问题，那个对话可能已超时结束（{ttl} 无操作会结束），请重新发起。",
		EN: "I did not understand \"{text}\". If you were answering one of my questions, that conversation has ended (it expires after {ttl} without an answer); please start again.",
	},
	"not_understood_plain": {ZH: "没看懂「{text}」。", EN: "I did not understand \"{text}\"."},
	"greeting": {
		ZH: "你好，{name}！我可以帮你发起和处理审批。发送 /help 查看我能做什么，或发送 /flows 查看可以发起的流程。",
		EN: "Hello {name}! I file and handle approvals. Send /help to see what I can do, or /flows for the flows you can start.",
	},
	"unknown_action": {ZH: "无法处理这个按钮（{action}）。", EN: "This button cannot be handled ({action})."},
	"bad_button":     {ZH: "这张卡片的数据有误，请用 /todo 或 /mine 重新打开。", EN: "This card's data is broken; reopen it with /todo or /mine."},
	"system":         {ZH: "系统", EN: "system"},

	// Help.
	"help_title":     {ZH: "我可以帮你发起和处理审批：", EN: "I can file and handle approvals for you:"},
	"help_flows":     {ZH: "你可以发起的流程（发送流程名开始）：", EN: "Flows you can start (send the flow's name to start):"},
	"help_commands":  {ZH: "命令：", EN: "Commands:"},
	"help_cards":     {ZH: "在审批卡片上：同意、驳回、退回修改或退回到之前的步骤（流程允许时）、转交（交给别人审批）、加签（请别人在你之前、之后或同时审批）、评论（在意见框填写后点“评论”）；申请人可以在卡片上催办、撤回；评论卡片可以回复。", EN: "On an approval card: approve, reject, return for changes or send back to an earlier step (where the flow offers them), transfer (hand it to someone else), add signer (ask someone to approve before, after or alongside you), comment (type in the comment box, then click Comment); applicants can urge and withdraw on their card; a comment card has Reply."},
	"help_args":      {ZH: "熟练用户可以一次写全：/leave type=annual from=2026-12-01 to=2026-12-03 reason=\"家里有事\"", EN: "Power users can give everything at once: /leave type=annual from=2026-12-01 to=2026-12-03 reason=\"family\""},
	"help_todo":      {ZH: "/todo（待办）— 待我审批的事项", EN: "/todo — approvals waiting for me"},
	"help_mine":      {ZH: "/mine [状态]（我的申请）— 我发起的申请，如 /mine 审批中", EN: "/mine [status] — my requests, e.g. /mine pending"},
	"help_status":    {ZH: "/status 编号（进度）— 查看申请进度，如 /status LEAVE-20261126-0007", EN: "/status N — a request's progress, e.g. /status LEAVE-20261126-0007"},
	"help_withdraw":  {ZH: "/withdraw 编号（撤回）— 撤回我的申请", EN: "/withdraw N — withdraw my request"},
	"help_urge":      {ZH: "/urge 编号（催办）— 提醒审批人", EN: "/urge N — nudge the approvers"},
	"help_stats":     {ZH: "/stats（统计）— 部门近 30 天的审批统计（经理和管理员）", EN: "/stats — your departments' numbers for the last 30 days (managers, admins)"},
	"help_resubmit":  {ZH: "/resubmit 编号（重新提交）— 修改被退回的申请并重新提交", EN: "/resubmit N — amend a request returned for changes and submit it again"},
	"btn_copy":       {ZH: "复制并重新提交", EN: "Copy and file again"},
	"toast_copy":     {ZH: "已复制，请在下方确认", EN: "Copied; confirm below"},
	"help_copy":      {ZH: "/copy 编号（复制）— 把被驳回或撤回的申请复制一份重新填写提交", EN: "/copy N — file a rejected or withdrawn request again as a copy, pre-filled"},
	"copy_started":   {ZH: "已按 {number} 复制填写，请检查：", EN: "Copied from {number}; check the values:"},
	"copy_open":      {ZH: "{number} 仍在进行中，不能复制；结束后（被驳回或撤回）再复制。", EN: "{number} is still open; copy it once it is closed (rejected or withdrawn)."},
	"copy_not_yours": {ZH: "{number} 不是你的申请，只能复制自己的申请。", EN: "{number} is not yours; you can copy only your own requests."},
	"help_flowscmd":  {ZH: "/flows（流程）— 我可以发起的流程", EN: "/flows — the flows I can start"},
	"help_help":      {ZH: "/help（帮助）— 显示本帮助", EN: "/help — this help"},
	"help_cancel":    {ZH: "/cancel（取消）— 退出当前对话；/cancel 编号 [原因] — 申请撤销已通过的申请（如销假）", EN: "/cancel — leave the current conversation; /cancel N [reason] — ask to cancel an approved request (e.g. a leave)"},
	"flow_line":      {ZH: "/{id}（{aliases}）— {name}", EN: "/{id} ({aliases}) — {name}"},
	"no_flows":       {ZH: "目前没有你可以发起的流程。", EN: "There is no flow you can start right now."},
	"flows_title":    {ZH: "你可以发起的流程", EN: "Flows you can start"},
	"help_delegate":  {ZH: "/delegate @某人 开始 结束（委托）— 休假时由他代你审批；/delegate off 结束", EN: "/delegate @someone FROM TO — someone approves for you while you are away; /delegate off ends it"},
	"delegate_usage": {
		ZH: "用法：/delegate @某人 2026-12-01 2026-12-10（加 --pending 把现有待办一并交给他）；/delegate off 结束委托。",
		EN: "Usage: /delegate @someone 2026-12-01 2026-12-10 (add --pending to hand over your pending approvals too); /delegate off ends it.",
	},
	"delegate_set":         {ZH: "✅ {from} 至 {until} 期间新的审批将交给 {to} 代为处理，并抄送你。", EN: "✅ From {from} to {until} new approvals go to {to}, with you in CC."},
	"delegate_handed":      {ZH: "已移交 {n} 条待办；{kept} 条留给你（申请人是代理人本人，或他已在该步骤审批）。", EN: "{n} pending approvals handed over; {kept} stay with you (filed by your delegate, or they already approve that step)."},
	"delegate_none":        {ZH: "你当前没有委托。", EN: "You have no delegation."},
	"delegate_ended":       {ZH: "委托已结束，新的审批将直接交给你。", EN: "Delegation ended; new approvals come to you again."},
	"delegate_title":       {ZH: "我的委托", EN: "My delegations"},
	"btn_delegate_off":     {ZH: "结束委托", EN: "End delegation"},
	"btn_delegate_set":     {ZH: "设置委托", EN: "Delegate"},
	"in_delegate_to":       {ZH: "代理人", EN: "Delegate"},
	"in_delegate_start":    {ZH: "开始日期", EN: "From"},
	"in_delegate_end":      {ZH: "结束日期（含）", EN: "Until (inclusive)"},
	"in_delegate_pending":  {ZH: "同时移交现有待办", EN: "Hand over pending approvals too"},
	"hd_task_for":          {ZH: "🤝 你在代 {for} 审批（{for} 设置了委托）", EN: "🤝 You decide this for {for} (they delegated their approvals)"},
	"on_behalf":            {ZH: "{who} 代 {for}", EN: "{who} for {for}"},
	"ev_delegated":         {ZH: "{who} 委托 {to} 代为审批", EN: "{who} delegated this approval to {to}"},
	"help_whoami":          {ZH: "/whoami（我是谁）— 查看你在各平台关联的账号", EN: "/whoami — see your accounts on each platform"},
	"whoami_title":         {ZH: "{name} 的账号", EN: "Accounts of {name}"},
	"whoami_id":            {ZH: "通讯录 ID", EN: "Directory id"},
	"whoami_email":         {ZH: "邮箱", EN: "Email"},
	"whoami_accounts":      {ZH: "已关联的平台账号：", EN: "Linked platform accounts:"},
	"whoami_none":          {ZH: "通讯录里没有你的平台账号。", EN: "The directory lists no platform account of yours."},
	"whoami_preferred":     {ZH: "消息首选发到：{platform}（/prefer 可修改）", EN: "Messages go first to: {platform} (change with /prefer)"},
	"help_prefer":          {ZH: "/prefer 平台（首选平台）— 消息优先发到哪个平台，例如 /prefer dingtalk；/prefer off 恢复默认", EN: "/prefer PLATFORM — where your messages go first, e.g. /prefer dingtalk; /prefer off for the default"},
	"prefer_usage":         {ZH: "用法：/prefer 平台，可选：{platforms}；/prefer off 恢复默认顺序。", EN: "Usage: /prefer PLATFORM, one of: {platforms}; /prefer off for the default order."},
	"prefer_set":           {ZH: "✅ 以后的消息会优先发到 {platform}。", EN: "✅ Your messages now go to {platform} first."},
	"prefer_cleared":       {ZH: "✅ 已恢复默认：消息按系统配置的平台顺序发送。", EN: "✅ Back to the default: messages follow the configured platform order."},
	"prefer_unlinked":      {ZH: "你在 {platform} 上没有关联账号，可选：{platforms}。", EN: "You have no linked account on {platform}; choose one of: {platforms}."},
	"prefer_unavailable":   {ZH: "此部署不支持设置首选平台。", EN: "This installation does not keep platform preferences."},
	"ev_rated":             {ZH: "{who} 评价了这条申请", EN: "{who} rated this request"},
	"f_rating":             {ZH: "我的评价", EN: "Your rating"},
	"rate_comment":         {ZH: "评价（选填）", EN: "Comment (optional)"},
	"rate_comment_hint":    {ZH: "有什么想说的？", EN: "Anything to tell us?"},
	"rate_ask":             {ZH: "这次办理满意吗？请打 1–5 分（5 分最满意），也可以先写一句评价。没有按钮时发送 /rate {number} 5 很快。", EN: "How satisfied are you? Rate 1–5 (5 is best); you may write a comment first. Without buttons, send /rate {number} 5 quick."},
	"rate_usage":           {ZH: "用法：/rate 编号 分数(1-5) [评价]，如 /rate EXP-20261201-0001 5 很快", EN: "Usage: /rate N score(1-5) [comment], e.g. /rate EXP-20261201-0001 5 quick"},
	"f_forecast":           {ZH: "预计完成", EN: "Expected finish"},
	"forecast_value":       {ZH: "{p50}（十有八九在 {p90} 前）", EN: "{p50} (9 in 10 by {p90})"},
	"forecast_steps":       {ZH: "**预计进度**（按以往同类申请、工作日历）", EN: "**Forecast** (from past requests, on the business calendar)"},
	"forecast_step":        {ZH: "- {step}：预计 {p50} 完成（最晚约 {p90}）", EN: "- {step}: expected by {p50} (at the latest about {p90})"},
	"forecast_step_who":    {ZH: "- {step}（{who}）：预计 {p50} 完成（最晚约 {p90}）", EN: "- {step} ({who}): expected by {p50} (at the latest about {p90})"},
	"forecast_breach":      {ZH: "⚠ 可能超过期限 {deadline}", EN: "⚠ likely to miss its deadline {deadline}"},
	"forecast_task_breach": {ZH: "⚠ 按以往的用时，这一步预计 {p50} 才能完成，会超过期限 {deadline}。", EN: "⚠ From past waits this step is expected to finish at {p50}, after its deadline {deadline}."},
	"toast_rated":          {ZH: "谢谢你的评价", EN: "Thank you for your rating"},
	"help_rate":            {ZH: "/rate 编号 分数 [评价]（评价）— 给办结的申请打 1–5 分", EN: "/rate N score [comment] — rate a finished request 1–5"},

	// Conversation.
	"ask_header":      {ZH: "{flow} · 第 {n}/{total} 项", EN: "{flow} · question {n} of {total}"},
	"ask_required":    {ZH: "（必填）", EN: " (required)"},
	"ask_optional":    {ZH: "（选填，回复“跳过”略过）", EN: " (optional, reply \"skip\" to leave it out)"},
	"ask_options":     {ZH: "可选项（回复序号或名称）：", EN: "Options (reply with the number or the name):"},
	"ask_multi":       {ZH: "可多选，用逗号分隔，如 1,3", EN: "Several allowed, separated by commas, e.g. 1,3"},
	"ask_example":     {ZH: "例如：{ex}", EN: "For example: {ex}"},
	"ask_cancel":      {ZH: "随时发送 /cancel 取消。", EN: "Send /cancel at any time to stop."},
	"answer_invalid":  {ZH: "「{label}」填写有误：{reason}", EN: "That is not a valid {label}: {reason}"},
	"answer_needed":   {ZH: "「{label}」是必填项，不能跳过。", EN: "{label} is required and cannot be skipped."},
	"ex_text":         {ZH: "家里有事", EN: "family matters"},
	"ex_number":       {ZH: "3", EN: "3"},
	"ex_money":        {ZH: "1280.50", EN: "1280.50"},
	"ex_date":         {ZH: "2026-12-01（或 明天）", EN: "2026-12-01 (or tomorrow)"},
	"ex_daterange":    {ZH: "2026-12-01~2026-12-03", EN: "2026-12-01~2026-12-03"},
	"ex_user":         {ZH: "lilei、李雷 或 lilei@example.com", EN: "lilei, Li Lei or lilei@example.com"},
	"ex_file":         {ZH: "直接在聊天中发送文件或图片", EN: "send the file or image in the chat"},
	"ex_bool":         {ZH: "是 / 否", EN: "yes / no"},
	"ex_select":       {ZH: "1", EN: "1"},
	"summary_title":   {ZH: "请确认：{flow}", EN: "Please confirm: {flow}"},
	"summary_hint":    {ZH: "确认无误后点击“提交”。要修改某项，回复「字段=新值」（如 {ex}），字段：{keys}。", EN: "Check the values, then click Submit. To change a field, reply field=value (e.g. {ex}); fields: {keys}."},
	"summary_more":    {ZH: "另有 {n} 项未显示。", EN: "{n} more fields not shown."},
	"confirm_hint":    {ZH: "请点击上方卡片的“提交”或“取消”，也可以直接回复“提交”或“取消”。", EN: "Click Submit or Cancel on the card above, or reply \"submit\" or \"cancel\"."},
	"btn_submit":      {ZH: "提交", EN: "Submit"},
	"btn_edit_form":   {ZH: "在表单中修改", EN: "Edit in a form"},
	"form_title":      {ZH: "填写：{flow}", EN: "Fill in: {flow}"},
	"form_hint":       {ZH: "填好各项后点击“提交”，带 * 的为必填。", EN: "Fill in the fields, then click Submit; fields marked * are required."},
	"form_fix":        {ZH: "有 {n} 项需要修改，见各项下方的提示；没有提交任何内容。", EN: "{n} field(s) need a change, see the note under each; nothing was submitted."},
	"file_off":        {ZH: "这里不接收文件。", EN: "Files are not taken here."},
	"file_unscanned":  {ZH: "（未经病毒扫描）", EN: " (not virus-scanned)"},
	"file_unexpected": {ZH: "收到了文件，但当前没有需要附件的申请。请先发起申请（如 /expense），在问到附件时发送文件。", EN: "Got a file, but nothing open needs one. Start a request first (e.g. /expense) and send the file when it asks for an attachment."},
	"file_kept":       {ZH: "已收到「{label}」：{name}（{size}）", EN: "{label} received: {name} ({size})"},
	"form_file":       {ZH: "在聊天中发送文件或图片即可附上", EN: "send the file or image in the chat to attach it"},
	"form_required":   {ZH: "必填", EN: "required"},
	"form_range_half": {ZH: "请选择开始和结束日期", EN: "pick both the first and the last day"},
	"btn_resubmit":    {ZH: "重新提交", EN: "Resubmit"},
	"amend_title":     {ZH: "修改并重新提交：{flow} · {number}", EN: "Amend and resubmit: {flow} · {number}"},
	"amend_hint": {
		ZH: "要修改某项，回复「字段=新值」（如 {ex}），或只回复字段名重新填写；字段：{keys}。确认无误后点击“重新提交”或回复“确认”。",
		EN: "To change a field, reply field=value (e.g. {ex}), or just the field's name to fill it in again; fields: {keys}. Then click Resubmit or reply \"ok\".",
	},
	"field_changed":    {ZH: "已修改「{label}」：{value}", EN: "{label} changed to {value}."},
	"resubmitted":      {ZH: "已重新提交 {number}，重新进入审批。", EN: "{number} was resubmitted and goes through approval again."},
	"btn_cancel":       {ZH: "取消", EN: "Cancel"},
	"conv_cancelled":   {ZH: "已取消，没有提交任何内容。", EN: "Cancelled; nothing was submitted."},
	"conv_none":        {ZH: "当前没有进行中的对话。", EN: "There is no conversation to cancel."},
	"workdays":         {ZH: "{n} 个工作日", EN: "{n} working days"},
	"workday":          {ZH: "1 个工作日", EN: "1 working day"},
	"no_workdays":      {ZH: "这段时间没有工作日（周末或节假日），不用请假", EN: "there is no working day in this period (weekend or holiday)"},
	"confirm_outdated": {ZH: "这张确认卡已过期：之后内容有改动，请在最新的确认卡上提交。", EN: "This confirmation card is out of date: the values changed after it was shown. Submit on the newest card."},
	"conv_stale":       {ZH: "这张确认卡已过期（对话已结束或已重新开始），请重新发起。", EN: "This confirmation card is out of date (the conversation ended or started over); please start again."},
	"submitted":        {ZH: "已提交，申请编号 {number}。", EN: "Submitted as {number}."},
	"arg_unknown":      {ZH: "「{flow}」没有字段「{key}」。可用字段：{fields}", EN: "\"{flow}\" has no field \"{key}\". Fields: {fields}"},
	"arg_bare":         {ZH: "看不懂参数「{arg}」，请用 字段=值 的形式，如 {ex}；字段：{keys}。", EN: "I do not understand \"{arg}\"; write field=value, e.g. {ex}; fields: {keys}."},
	"arg_quote":        {ZH: "引号没有配对，请检查后重发。", EN: "A quote is not closed; please check and send again."},
	"arg_missing":      {ZH: "请在命令后写上申请编号，如 /{cmd} LEAVE-20261126-0007。", EN: "Add a request number after the command, e.g. /{cmd} LEAVE-20261126-0007."},
	"flow_forbidden":   {ZH: "你没有发起「{flow}」的权限。", EN: "You may not start \"{flow}\"."},
	"not_visible":      {ZH: "你无权查看申请 {ref}。", EN: "You may not see request {ref}."},

	// Clicks.
	"toast_approved":    {ZH: "已同意", EN: "Approved"},
	"toast_rejected":    {ZH: "已驳回", EN: "Rejected"},
	"toast_returned":    {ZH: "已退回申请人修改", EN: "Returned to the applicant for changes"},
	"toast_sent_back":   {ZH: "已退回到「{step}」", EN: "Sent back to \"{step}\""},
	"toast_replied":     {ZH: "回复已发送给 {to}", EN: "Reply sent to {to}"},
	"toast_kept":        {ZH: "未撤回，申请继续审批", EN: "Not withdrawn; the request goes on"},
	"toast_need_step":   {ZH: "请选择要退回到的步骤", EN: "Choose the step to send it back to"},
	"toast_transferred": {ZH: "已转交给 {to}", EN: "Transferred to {to}"},
	"toast_signer":      {ZH: "已加签 {who}", EN: "{who} added as signer"},
	"toast_commented":   {ZH: "评论已发送", EN: "Comment sent"},
	"toast_withdrawn":   {ZH: "已撤回", EN: "Withdrawn"},
	"toast_urged":       {ZH: "已催办审批人", EN: "The approvers were reminded"},
	"toast_amend":       {ZH: "请修改后重新提交", EN: "Amend the request, then resubmit it"},
	"toast_reason":      {ZH: "驳回请填写理由", EN: "Please give a reason for the rejection"},
	"toast_need_user":   {ZH: "请填写要转交或加签的人", EN: "Please enter who should get it"},
	"toast_need_text":   {ZH: "请填写内容", EN: "Please write something first"},
	"input_required":    {ZH: "必填", EN: "Required"},
	"user_not_found":    {ZH: "通讯录里找不到「{q}」。", EN: "Nobody called \"{q}\" in the directory."},
	"user_choose":       {ZH: "「{q}」有多人同名，请回复序号选择：", EN: "Several people are called \"{q}\"; reply with a number:"},
	"user_ambiguous":    {ZH: "「{q}」有多人同名：{ids}，请填写账号。", EN: "Several people match \"{q}\": {ids}; enter a user id."},
	"position_invalid":  {ZH: "加签位置请填 before（前）、after（后）或 alongside（同时）。", EN: "Position must be before, after or alongside."},

	// Cards.
	"f_applicant":        {ZH: "申请人", EN: "Applicant"},
	"f_dept":             {ZH: "部门", EN: "Department"},
	"f_step":             {ZH: "当前步骤", EN: "Step"},
	"f_status":           {ZH: "状态", EN: "Status"},
	"f_number":           {ZH: "编号", EN: "Number"},
	"f_submitted":        {ZH: "提交时间", EN: "Submitted"},
	"btn_approve":        {ZH: "同意", EN: "Approve"},
	"btn_reject":         {ZH: "驳回", EN: "Reject"},
	"btn_return":         {ZH: "退回修改", EN: "Return for changes"},
	"btn_send_back":      {ZH: "退回", EN: "Send back"},
	"opt_applicant":      {ZH: "申请人（修改后重新提交）", EN: "The applicant, to amend and resubmit"},
	"btn_reply":          {ZH: "回复", EN: "Reply"},
	"btn_withdraw_yes":   {ZH: "确认撤回", EN: "Yes, withdraw it"},
	"btn_withdraw_no":    {ZH: "不撤回", EN: "No, keep it"},
	"in_to_step":         {ZH: "退回给", EN: "Send back to"},
	"in_reply":           {ZH: "回复内容", EN: "Your reply"},
	"in_withdraw_reason": {ZH: "撤回原因（可不填）", EN: "Reason for withdrawing (optional)"},
	"confirm_withdraw":   {ZH: "⚠️ 确定撤回 {flow} {number} 吗？撤回后审批人不再处理，申请结束（可用 /copy {number} 重新填写）。", EN: "⚠️ Withdraw {flow} {number}? The approvers stop, and the request ends (/copy {number} files it again)."},
	"btn_transfer":       {ZH: "转交", EN: "Transfer"},
	"btn_signer":         {ZH: "加签", EN: "Add signer"},
	"btn_comment":        {ZH: "评论", EN: "Comment"},
	"btn_withdraw":       {ZH: "撤回", EN: "Withdraw"},
	"btn_urge":           {ZH: "催办", EN: "Urge"},
	"btn_amend":          {ZH: "修改并重新提交", EN: "Amend and resubmit"},
	"in_comment":         {ZH: "意见 / 理由", EN: "Comment / reason"},
	"in_comment_ph":      {ZH: "驳回、转交时必填", EN: "Required to reject or transfer"},
	"in_user":            {ZH: "转交 / 加签给", EN: "Transfer to / add signer"},
	"in_user_ph":         {ZH: "账号、姓名或邮箱", EN: "User id, name or email"},
	"in_position":        {ZH: "加签位置", EN: "Signer position"},
	"route_withdrawn":    {ZH: "（申请人已撤回，未审批）", EN: " (withdrawn by the applicant before a decision)"},
	"route_http_skipped": {ZH: "（调用失败，已跳过）", EN: " (the call failed; skipped)"},
	"pos_before":         {ZH: "在我之前（前加签）", EN: "Before me"},
	"pos_after":          {ZH: "在我之后（后加签）", EN: "After me"},
	"pos_alongside":      {ZH: "与我同时（会签）", EN: "Alongside me"},
	"in_position_ph":     {ZH: "before 前 / after 后 / alongside 同时（默认 before）", EN: "before / after / alongside (default before)"},
	"route":              {ZH: "**审批路线**", EN: "**Route**"},
	"history":            {ZH: "**最近动态**", EN: "**Latest**"},
	"more_fields":        {ZH: "另有 {n} 项未显示，用 /status {number} 查看。", EN: "{n} more fields; see /status {number}."},
	"rs_current":         {ZH: "审批中", EN: "in progress"},
	"rs_approvers":       {ZH: "{names}", EN: "{names}"},
	"comment_line":       {ZH: "💬 {who}：{text}", EN: "💬 {who}: {text}"},
	"note_approved":      {ZH: "已由 {by} 同意 · {at}", EN: "Approved by {by} at {at}"},
	"note_rejected":      {ZH: "已由 {by} 驳回 · {at}", EN: "Rejected by {by} at {at}"},
	"note_returned":      {ZH: "已由 {by} 退回申请人修改 · {at}", EN: "Returned to the applicant for changes by {by} at {at}"},
	"note_sent_back":     {ZH: "已由 {by} 退回到「{step}」 · {at}", EN: "Sent back to \"{step}\" by {by} at {at}"},
	"note_auto_approved": {ZH: "超时自动同意 · {at}", EN: "Approved automatically on timeout at {at}"},
	"note_auto_rejected": {ZH: "超时自动驳回 · {at}", EN: "Rejected automatically on timeout at {at}"},
	"note_transferred":   {ZH: "已由 {by} 转交给 {to} · {at}", EN: "Transferred by {by} to {to} at {at}"},
	"note_cancelled":     {ZH: "已由 {by} 处理，无需再审批 · {at}", EN: "No longer needed: handled by {by} at {at}"},
	"note_withdrawn":     {ZH: "申请人已撤回 · {at}", EN: "Withdrawn by the applicant at {at}"},
	"note_expired":       {ZH: "已超时 · {at}", EN: "Expired at {at}"},
	"note_queued":        {ZH: "排队中，轮到时会通知审批人", EN: "Queued: the approver is notified when it is their turn"},
	"note_waiting":       {ZH: "等待 {who} 审批", EN: "Waiting for {who}"},
	"note_closed":        {ZH: "申请已结束：{status}", EN: "The request is closed: {status}"},
	"list_more":          {ZH: "另有 {n} 条未显示。", EN: "{n} more not shown."},

	// Statuses.
	"st_pending":     {ZH: "审批中", EN: "Pending"},
	"st_returned":    {ZH: "待修改", EN: "Returned for changes"},
	"st_approved":    {ZH: "已通过", EN: "Approved"},
	"st_rejected":    {ZH: "已驳回", EN: "Rejected"},
	"st_withdrawn":   {ZH: "已撤回", EN: "Withdrawn"},
	"st_failed":      {ZH: "失败", EN: "Failed"},
	"ts_queued":      {ZH: "排队中", EN: "Queued"},
	"ts_pending":     {ZH: "待审批", EN: "Pending"},
	"ts_approved":    {ZH: "已同意", EN: "Approved"},
	"ts_rejected":    {ZH: "已驳回", EN: "Rejected"},
	"ts_returned":    {ZH: "已退回修改", EN: "Returned for changes"},
	"ts_sent_back":   {ZH: "已退回到之前的步骤", EN: "Sent back to an earlier step"},
	"ts_transferred": {ZH: "已转交", EN: "Transferred"},
	"ts_cancelled":   {ZH: "已取消", EN: "Cancelled"},
	"ts_expired":     {ZH: "已超时", EN: "Expired"},

	// Events (history lines).
	"ev_submitted":    {ZH: "{who} 提交了申请", EN: "{who} submitted"},
	"ev_resubmitted":  {ZH: "{who} 重新提交", EN: "{who} resubmitted"},
	"ev_approved":     {ZH: "{who} 同意", EN: "{who} approved"},
	"ev_rejected":     {ZH: "{who} 驳回", EN: "{who} rejected"},
	"ev_returned":     {ZH: "{who} 退回修改", EN: "{who} returned it for changes"},
	"ev_sent_back":    {ZH: "{who} 退回到「{step}」", EN: "{who} sent it back to \"{step}\""},
	"ev_replied":      {ZH: "{who} 回复 {to}", EN: "{who} replied to {to}"},
	"ev_transferred":  {ZH: "{who} 转交给 {to}", EN: "{who} transferred it to {to}"},
	"ev_signer_added": {ZH: "{who} 加签 {to}", EN: "{who} added {to} as signer"},
	"ev_commented":    {ZH: "{who} 评论", EN: "{who} commented"},
	"ev_urged":        {ZH: "{who} 催办", EN: "{who} urged"},
	"ev_escalated":    {ZH: "超时升级", EN: "escalated on timeout"},
	"ev_timed_out":    {ZH: "超时自动处理", EN: "handled automatically on timeout"},
	"ev_withdrawn":    {ZH: "{who} 撤回了申请", EN: "{who} withdrew the request"},
	"ev_completed":    {ZH: "流程结束：{status}", EN: "finished: {status}"},
	"ev_http_failed":  {ZH: "「{step}」调用失败，按流程设置已跳过", EN: "{step}: the call failed and was skipped, as the flow says"},

	// Lists.
	"todo_none":           {ZH: "没有待你审批的事项。🎉", EN: "Nothing is waiting for you. 🎉"},
	"todo_header":         {ZH: "你有 {n} 条待审批：", EN: "{n} approvals are waiting for you:"},
	"mine_title":          {ZH: "我的申请", EN: "My requests"},
	"mine_none":           {ZH: "你还没有发起过申请。发送 /flows 查看可以发起的流程。", EN: "You have no requests yet. Send /flows to see what you can start."},
	"mine_line":           {ZH: "{flow} · {status}{step} · {date} 提交", EN: "{flow} · {status}{step} · filed {date}"},
	"timeline":            {ZH: "**全部动态**（第 {page}/{pages} 页，共 {n} 条）", EN: "**Timeline** (page {page} of {pages}, {n} events)"},
	"timeline_next":       {ZH: "下一页：/status {number} {next}", EN: "Next page: /status {number} {next}"},
	"history_more":        {ZH: "还有更早的 {n} 条动态：/status {number}", EN: "{n} earlier events: /status {number}"},
	"mine_hint":           {ZH: "点击编号打开申请；只看某种状态：/mine 审批中（或 已通过、已驳回、待修改、已撤回）", EN: "Click a number to open the request; one status only: /mine pending (or approved, rejected, returned, withdrawn)"},
	"mine_title_status":   {ZH: "我的申请 · {status}", EN: "My requests · {status}"},
	"mine_none_status":    {ZH: "没有状态为「{status}」的申请。", EN: "You have no requests that are {status}."},
	"mine_filter_unknown": {ZH: "没有「{q}」这种状态，可选：{statuses}", EN: "There is no status \"{q}\"; choose one of: {statuses}"},

	// Statistics.
	"stats_forbidden":        {ZH: "只有部门经理和管理员可以查看统计。", EN: "Only managers and admins can see statistics."},
	"stats_title":            {ZH: "审批统计（近 30 天）", EN: "Approval statistics (last 30 days)"},
	"stats_scope":            {ZH: "范围", EN: "Scope"},
	"stats_all":              {ZH: "全公司", EN: "whole company"},
	"stats_total":            {ZH: "申请总数", EN: "Requests"},
	"stats_median":           {ZH: "决定用时中位数", EN: "Median time to decision"},
	"stats_none":             {ZH: "暂无", EN: "n/a"},
	"stats_by_flow":          {ZH: "**按流程**", EN: "**By flow**"},
	"stats_p90":              {ZH: "决定用时 P90", EN: "90th percentile time to decision"},
	"stats_reject_rate":      {ZH: "驳回率", EN: "Rejection rate"},
	"stats_overdue_rate":     {ZH: "超时率", EN: "Overdue rate"},
	"stats_bottleneck":       {ZH: "瓶颈步骤", EN: "Bottleneck step"},
	"stats_bottleneck_value": {ZH: "{flow} · {step}（中位 {wait}）", EN: "{flow} · {step} (median {wait})"},
	"stats_flow_median":      {ZH: "（中位 {wait}）", EN: " (median {wait})"},
	// Return, send-back and withdrawal rates (/stats).
	"stats_return_rate":   {ZH: "退回申请人率", EN: "Returned to the applicant"},
	"stats_sendback_rate": {ZH: "退回前面环节率", EN: "Sent back to an earlier step"},
	"stats_withdraw_rate": {ZH: "撤回率", EN: "Withdrawal rate"},
	"stats_flow_rates":    {ZH: "，退回 {ret}，退回前面环节 {back}，撤回 {wd}", EN: "; returned {ret}, sent back {back}, withdrawn {wd}"},
	"stats_by_step":       {ZH: "**按环节：退回与退回前面环节**", EN: "**By step: returns and send-backs**"},
	"stats_step_rates":    {ZH: "• {flow} · {step}：{n} 次决定，退回 {ret}，退回前面环节 {back}", EN: "• {flow} · {step}: {n} decisions, returned {ret}, sent back {back}"},

	// Notifications (Render).
	"hd_task":      {ZH: "📝 有一条新的审批待你处理", EN: "📝 A new approval is waiting for you"},
	"hd_task_from": {ZH: "📝 {from} 把这条审批转交给你：{reason}", EN: "📝 {from} transferred this approval to you: {reason}"},
	"hd_submitted": {ZH: "✅ 已提交，申请编号 {number}", EN: "✅ Submitted as {number}"},
	"hd_approved":  {ZH: "🎉 你的申请 {number} 已通过", EN: "🎉 Your request {number} was approved"},
	"hd_rejected":  {ZH: "❌ 你的申请 {number} 被 {by} 驳回：{comment}", EN: "❌ Your request {number} was rejected by {by}: {comment}"},
	"hd_returned": {
		ZH: "↩️ 你的申请 {number} 被 {by} 退回修改：{comment}\n点击“修改并重新提交”，或发送 /resubmit {number}。",
		EN: "↩️ Your request {number} was returned by {by} for changes: {comment}\nClick \"Amend and resubmit\", or send /resubmit {number}.",
	},
	"hd_failed":        {ZH: "⚠️ 你的申请 {number} 处理失败：{error}", EN: "⚠️ Your request {number} failed: {error}"},
	"hd_progress":      {ZH: "👍 「{step}」已通过，进入下一步", EN: "👍 \"{step}\" approved; on to the next step"},
	"hd_reminder":      {ZH: "⏰ 提醒：{flow} {number} 待你审批，已等待 {wait}", EN: "⏰ Reminder: {flow} {number} has waited {wait} for you"},
	"hd_escalation":    {ZH: "⚠️ {flow} {number} 已超时未处理，审批人 {assignee}", EN: "⚠️ {flow} {number} is overdue; the approver is {assignee}"},
	"hd_cc":            {ZH: "📨 抄送给你：{applicant} 的 {flow} {number}", EN: "📨 For your information: {flow} {number} of {applicant}"},
	"escalated_line":   {ZH: "⚠️ 已超时未处理，审批人 {assignee}（{at} 升级）", EN: "⚠️ Overdue; the approver is {assignee} (escalated {at})"},
	"in_transfer_to":   {ZH: "转交给", EN: "Transfer to"},
	"btn_approve_for":  {ZH: "代为同意", EN: "Approve on their behalf"},
	"older_copy":       {ZH: "这张卡片已有更新的一份，请在最新的卡片上操作。", EN: "There is a newer copy of this card; act on the newest one."},
	"urged_line":       {ZH: "📣 {applicant} 于 {at} 催办，请尽快处理", EN: "📣 {applicant} asked at {at} for a decision soon"},
	"hd_urge":          {ZH: "📣 {applicant} 在催办 {flow} {number}，请尽快处理", EN: "📣 {applicant} asks you to decide {flow} {number} soon"},
	"hd_comment":       {ZH: "💬 {by} 评论了 {flow} {number}：{text}", EN: "💬 {by} commented on {flow} {number}: {text}"},
	"hd_reply":         {ZH: "💬 {by} 回复了你在 {flow} {number} 的评论：{text}", EN: "💬 {by} replied to your comment on {flow} {number}: {text}"},
	"hd_replied_other": {ZH: "💬 {by} 回复 {to}（{flow} {number}）：{text}", EN: "💬 {by} replied to {to} on {flow} {number}: {text}"},
	"hd_sent_back": {
		ZH: "↩️ 你的申请 {number} 被 {by} 退回到「{step}」重新审批：{comment}",
		EN: "↩️ Your request {number} was sent back by {by} to \"{step}\" to be decided again: {comment}",
	},
	"hd_sent_back_task": {ZH: "↩️ {by} 把这条申请退回到本步骤，请重新审批：{reason}", EN: "↩️ {by} sent this request back to this step; please decide again: {reason}"},
	"hd_transferred":    {ZH: "↪️ 你的审批 {number} 已转交给 {to}", EN: "↪️ Your approval {number} was transferred to {to}"},
	"hd_withdrawn":      {ZH: "🚫 {applicant} 撤回了 {flow} {number}，无需再审批", EN: "🚫 {applicant} withdrew {flow} {number}; no decision needed"},
	"no_comment":        {ZH: "（无）", EN: "(none)"},
	"dur_under_min":     {ZH: "不到 1 分钟", EN: "under a minute"},
	"dur_min":           {ZH: "{m} 分钟", EN: "{m} min"},
	"dur_hour":          {ZH: "{h} 小时", EN: "{h} h"},
	"dur_hour_min":      {ZH: "{h} 小时 {m} 分钟", EN: "{h} h {m} min"},
	"dur_day":           {ZH: "{d} 天 {h} 小时", EN: "{d} d {h} h"},

	// Leave balances and cancelling an approved request (balance.go).
	"balance_left":        {ZH: "{type}剩余 {left} 天", EN: "{type} left: {left} days"},
	"balance_this":        {ZH: "（本次 {days} 天）", EN: " (this request: {days})"},
	"balance_short_hint":  {ZH: "，余额不足", EN: ": not enough"},
	"f_balance":           {ZH: "假期余额", EN: "Leave balance"},
	"btn_cancel_request":  {ZH: "申请撤销", EN: "Cancel"},
	"cancel_filed":        {ZH: "已提交撤销 {number} 的申请 {cancel}，审批通过后请假撤销、余额退回。", EN: "Asked to cancel {number} ({cancel}); once approved, the leave is cancelled and the days go back to the balance."},
	"toast_cancel_filed":  {ZH: "已提交撤销申请", EN: "Cancellation requested"},
	"st_cancelled":        {ZH: "已撤销", EN: "Cancelled"},
	"ev_cancelled":        {ZH: "{who} 撤销了申请（{by} 已通过）", EN: "{who} cancelled it ({by} approved)"},
	"ev_balance_used":     {ZH: "扣减{type}余额 {days} 天", EN: "{days} days taken from {type}"},
	"ev_balance_restored": {ZH: "退回{type}余额 {days} 天", EN: "{days} days given back to {type}"},
}
