package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalktest"
	"github.com/flowbot/flowbot/adapters/feishu/feishutest"
	"github.com/flowbot/flowbot/adapters/teams/teamstest"
	"github.com/flowbot/flowbot/adapters/wecom/wecomtest"
	"github.com/flowbot/flowbot/flows"
)

const storyOrg = `departments:
  - {id: hq, name: 总部, head: boss}
users:
  - {id: boss, name: Boss, dept: hq, roles: [admin], platforms: {web: boss}}
  - {id: amy, name: Amy, dept: hq, manager: mark, locale: en, platforms: {feishu: ou_amy}}
  - {id: mark, name: Mark, dept: hq, manager: boss, locale: en, platforms: {feishu: ou_mark, teams: aad-mark}}
  - {id: hana, name: Hana, dept: hq, manager: boss, roles: [hr], platforms: {wecom: Hana}}
  - {id: finn, name: Finn, dept: hq, manager: boss, roles: [finance], platforms: {dingtalk: finn01}}
`

const storyFlow = `id: purchase
name: {zh: 采购, en: Purchase}
fields:
  - id: item
    type: text
    label: {zh: 物品, en: Item}
    required: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
  - id: hr
    name: {zh: 人事, en: HR}
    approvers: [{role: hr}]
  - id: finance
    name: {zh: 财务, en: Finance}
    approvers: [{role: finance}]
`

// The cross-platform story: Amy files on Feishu, her manager Mark (on
// Feishu and Teams, preferring Teams) approves, then HR on WeCom, then
// finance on DingTalk. Each card goes to one platform, once; every copy is
// updated after each decision.
func TestCrossPlatformStory(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	fs := feishutest.NewServer()
	t.Cleanup(fs.Close)
	dt := dingtalktest.NewServer()
	t.Cleanup(dt.Close)
	dt.AddApp(dingtalktest.App{Key: "dingstory", Secret: "ding-secret"})
	wc := wecomtest.NewServer()
	t.Cleanup(wc.Close)
	tm := teamstest.NewServer()
	t.Cleanup(tm.Close)

	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.Playground.Enabled, cfg.Playground.Demo = false, false
	cfg.Directory.File = writeFile(t, dir, "org.yaml", storyOrg)
	cfg.Flows.Dir = dir + "/flows"
	writeFile(t, dir, "flows/purchase.yaml", storyFlow)
	cfg.Notifier.Delivery = "one"
	feishuApp(&cfg, fs)
	cfg.DingTalk.Apps = []DingTalkApp{{AppKey: "dingstory", AppSecret: "ding-secret", BaseURL: dt.URL, CardTemplateID: "tpl"}}
	wa := WeComApp{Name: "hq", CorpID: "wwstory", AgentID: 1000002, Secret: "s3cret", Token: "tok", EncodingAESKey: wecomtest.NewAESKey(), BaseURL: wc.URL}
	cfg.WeCom.Apps = []WeComApp{wa}
	cfg.Teams = TeamsConfig{AppID: "bot-story", AppPassword: "pw", TenantID: "tenant-1",
		OpenIDMetadataURL: tm.MetadataURL(), LoginBaseURL: tm.URL, ServiceURL: tm.ServiceURL()}
	require.NoError(t, cfg.Validate())
	r := startApp(t, cfg)
	wc.AddApp(wecomtest.App{CorpID: wa.CorpID, AgentID: wa.AgentID, Secret: wa.Secret, Token: wa.Token, EncodingAESKey: wa.EncodingAESKey, Webhook: r.base + "/webhook/wecom"})
	waitFor(t, 10*time.Second, "the DingTalk stream", func() bool { return dt.Connected("dingstory") })
	require.NoError(t, r.app.store.(interface {
		SetPreference(ctx context.Context, user, platform string) error
	}).SetPreference(ctx, "mark", "teams"))

	out, err := r.app.engine.Submit(ctx, flows.SubmitRequest{Actor: "amy", FlowID: "purchase", Values: map[string]any{"item": "laptop"}})
	require.NoError(t, err)
	r.app.kick()
	number := out.Instance.Number
	feishuTo := func(id string) []feishutest.Message {
		var ms []feishutest.Message
		for _, m := range fs.Messages() {
			if m.ReceiveID == id || m.ChatID == feishutest.P2PChatID(id) {
				ms = append(ms, m)
			}
		}
		return ms
	}
	waitFor(t, 10*time.Second, "Amy's confirmation on Feishu", func() bool { return len(feishuTo("ou_amy")) > 0 })
	waitFor(t, 10*time.Second, "Mark's task card on Teams", func() bool { return len(tm.Activities()) > 0 })
	require.Empty(t, feishuTo("ou_mark"), "Mark prefers Teams: nothing goes to his Feishu account")

	decide := func(actor string) {
		t.Helper()
		ts, err := r.app.store.Tasks(ctx, flows.TaskFilter{InstanceID: out.Instance.ID, Assignee: actor, Status: []flows.TaskStatus{flows.TaskPending}})
		require.NoError(t, err)
		require.Len(t, ts, 1, "one pending task for %s", actor)
		_, err = r.app.engine.Decide(ctx, flows.DecideRequest{Actor: actor, TaskID: ts[0].ID, Approve: true})
		require.NoError(t, err)
		r.app.kick()
	}
	decide("mark")
	waitFor(t, 10*time.Second, "Hana's task card on WeCom", func() bool { return len(wc.MessagesTo("Hana")) > 0 })
	waitFor(t, 10*time.Second, "Mark's Teams card updated", func() bool {
		for _, a := range tm.Activities() {
			if a.Updates > 0 {
				return true
			}
		}
		return false
	})
	decide("hana")
	waitFor(t, 10*time.Second, "Finn's task card on DingTalk", func() bool { return len(dt.Cards()) > 0 })
	waitFor(t, 10*time.Second, "Hana's WeCom card updated", func() bool {
		for _, m := range wc.MessagesTo("Hana") {
			if m.Updates > 0 {
				return true
			}
		}
		return false
	})
	decide("finn")
	waitFor(t, 10*time.Second, "Finn's DingTalk card updated", func() bool {
		for _, c := range dt.Cards() {
			if c.Updates > 0 {
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "Amy told on Feishu that it is approved", func() bool {
		for _, m := range feishuTo("ou_amy") {
			if strings.Contains(m.Content, "pproved") {
				return true
			}
		}
		return false
	})
	waitFor(t, 10*time.Second, "the outbox drained", func() bool {
		n, err := r.app.store.OutboxDepth(ctx)
		return err == nil && n == 0
	})

	// Nothing sent twice: one task card per approver, each on one platform.
	require.Len(t, tm.Activities(), 1, "Teams: Mark's task card, once")
	require.Len(t, wc.MessagesTo("Hana"), 1, "WeCom: Hana's task card, once")
	require.Len(t, dt.Cards(), 1, "DingTalk: Finn's task card, once")
	require.Empty(t, feishuTo("ou_mark"))
	// Every copy shows the end state: each task card updated after its decision.
	require.Positive(t, tm.Activities()[0].Updates)
	require.Positive(t, wc.MessagesTo("Hana")[0].Updates)
	require.Positive(t, dt.Cards()[0].Updates)
	ms, err := r.app.store.MessageRefs(ctx, out.Instance.ID, 0)
	require.NoError(t, err)
	platforms := map[string]int{}
	for _, m := range ms {
		platforms[strings.SplitN(m.Platform, ":", 2)[0]]++
	}
	require.Equal(t, 1, platforms["teams"], "refs: %v", platforms)
	require.Equal(t, 1, platforms["wecom"], "refs: %v", platforms)
	require.Equal(t, 1, platforms["dingtalk"], "refs: %v", platforms)
	t.Logf("request %s: refs by platform %v", number, platforms)
}
