package flowdef_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows/flowdef"
)

const goodFlow = `id: trip
name: {zh: 出差, en: Business trip}
aliases: [trip, 出差]
calendar: working
deadline:
  remind_after: 4h
  escalate_after: 1d
  escalate_to: [{manager: 2}]
fields:
  - id: city
    type: text
    required: true
  - id: period
    type: daterange
  - id: budget
    type: money
    min: 0.01
  - id: kind
    type: select
    options: [{value: domestic, label: {zh: 国内, en: Domestic}}, abroad]
    default: domestic
  - id: deputy
    type: user
steps:
  - id: manager
    approvers: [{manager: 1}]
  - id: finance
    when: budget > 5000 && kind == "abroad"
    approvers: [{role: finance}, {field: deputy}]
    mode: all
    on_reject: return
  - id: tell
    kind: notify
    cc: [{role: hr}]
    notify: {zh: 出差已批准, en: Trip approved}
`

func TestParseGood(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("trip.yaml", []byte(goodFlow))
	require.NoError(t, err)
	require.Equal(t, "trip", d.ID)
	require.Equal(t, "TRIP", d.NumberPrefix)
	require.Equal(t, flowdef.Text{ZH: "出差", EN: "Business trip"}, d.Name)
	require.True(t, d.Starters.Everyone)
	require.Equal(t, 24*time.Hour, d.Deadline.EscalateAfter)
	require.Equal(t, []flowdef.Selector{{Kind: flowdef.SelManager, Level: 2, Line: 8}}, d.Deadline.EscalateTo)
	require.Len(t, d.Fields, 5)
	require.Equal(t, "CNY", d.Field("budget").Currency)
	require.Equal(t, "domestic", d.Field("kind").Default)
	require.Equal(t, flowdef.Option{Value: "abroad", Label: flowdef.Text{ZH: "abroad", EN: "abroad"}}, d.Field("kind").Options[1])
	fin, i := d.Step("finance")
	require.Equal(t, 1, i)
	require.Equal(t, flowdef.ModeAll, fin.Mode)
	require.Equal(t, flowdef.RejectReturn, fin.OnReject)
	mgr, _ := d.Step("manager")
	require.Equal(t, flowdef.ModeAny, mgr.Mode)
	require.Equal(t, flowdef.RejectEnd, mgr.OnReject)
	require.Equal(t, flowdef.EmptySkip, mgr.OnEmpty)
	require.Equal(t, 25, mgr.Line)
}

func TestParseDocExample(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("doc.go")
	require.NoError(t, err)
	// The example of the package comment is the block between "A full
	// example:" and "# Conditions".
	text := string(src)
	start := strings.Index(text, "A full example:")
	end := strings.Index(text, "// # Conditions")
	require.True(t, start > 0 && end > start)
	var yml []string
	for _, line := range strings.Split(text[start:end], "\n")[1:] {
		if rest, ok := strings.CutPrefix(line, "//\t"); ok {
			yml = append(yml, rest)
		}
	}
	d, err := flowdef.Parse("doc.yaml", []byte(strings.Join(yml, "\n")))
	require.NoError(t, err)
	require.Len(t, d.Steps, 4)
	require.Len(t, d.Steps[0].Approvers, 5)
}

func TestParseMistakes(t *testing.T) {
	t.Parallel()
	// Each case replaces one line of goodFlow (or appends text) and expects
	// exactly one mistake at a line with a recognisable message.
	tests := []struct {
		name     string
		old, new string
		line     int
		msg      string
	}{
		{"unknown key", "calendar: working", "calender: working", 4, `unknown key "calender"`},
		{"unknown calendar", "calendar: working", "calendar: lunar", 4, `unknown calendar "lunar"`},
		{"bad duration", "remind_after: 4h", "remind_after: 4 hours", 6, "remind_after: bad duration"},
		{"bad duration unit", "remind_after: 4h", "remind_after: 4w", 6, "unit must be d, h, m or s"},
		{"escalate_to without after", "  escalate_after: 1d\n", "", 7, "escalate_to without escalate_after"},
		{"unknown field type", "type: text", "type: string", 11, `unknown field type "string"`},
		{"duplicate field id", "id: period", "id: city", 13, `duplicate field id "city"`},
		{"select without options", "    options: [{value: domestic, label: {zh: 国内, en: Domestic}}, abroad]\n    default: domestic\n", "", 18, "select field kind without options"},
		{"default not an option", "default: domestic", "default: moon", 21, "default not valid for field kind"},
		{"min greater than max", "min: 0.01", "min: 10\n    max: 5", 17, "min 10 is greater than max 5"},
		{"field id with capital", "id: city", "id: City", 10, `field id "City" must match`},
		{"unknown step kind", "kind: notify", "kind: email", 33, `unknown step kind "email"`},
		{"unknown approver kind", "approvers: [{manager: 1}]", "approvers: [{boss: 1}]", 26, `unknown approver kind "boss"`},
		{"bad manager level", "approvers: [{manager: 1}]", "approvers: [{manager: zero}]", 26, "approvers.manager must be a level from 1"},
		{"unknown mode", "mode: all", "mode: majority", 30, `unknown mode "majority"`},
		{"duplicate step id", "id: tell", "id: manager", 32, `duplicate step id "manager"`},
		{"approve without approvers", "    approvers: [{manager: 1}]\n", "", 25, "approve step manager without approvers"},
		{"field selector missing", "{field: deputy}", "{field: nobody}", 29, `"nobody" names no field`},
		{"field selector not user", "{field: deputy}", "{field: city}", 29, `"city" is a text field, want a user field`},
		{"when does not compile", `when: budget > 5000 && kind == "abroad"`, `when: budget >`, 28, "when \"budget >\""},
		{"when not boolean", `when: budget > 5000 && kind == "abroad"`, `when: budget + 1`, 28, "expected bool"},
		{"when missing field", `when: budget > 5000 && kind == "abroad"`, `when: days > 3`, 28, "refers to a missing field"},
		{"when type mismatch", `when: budget > 5000 && kind == "abroad"`, `when: city > 3`, 28, "when"},
		{"bad flow id", "id: trip", "id: Trip!", 1, `id "Trip!" must match`},
		{"missing id", "id: trip\n", "", 1, "missing id"},
		{"unknown on_reject", "on_reject: return", "on_reject: retry", 31, `unknown on_reject "retry"`},
		{"unknown on_reject in list", "on_reject: return", "on_reject: [end, retry]", 31, `unknown on_reject "retry"`},
		{"on_reject twice", "on_reject: return", "on_reject: [return, end, return]", 31, `on_reject lists "return" twice`},
		{"on_reject empty list", "on_reject: return", "on_reject: []", 31, "on_reject is an empty list"},
		{"on_reject a map", "on_reject: return", "on_reject: {end: true}", 31, "on_reject must be one of end, return, send_back"},
		{"send_back on the first step", "approvers: [{manager: 1}]", "approvers: [{manager: 1}]\n    on_reject: [end, send_back]", 27, "step manager offers send_back but no approve step comes before it"},
		{"on_reject on a notify step", "kind: notify", "kind: notify\n    on_reject: end", 34, "on_reject only applies to approve steps"},
		{"unknown on_timeout", "  escalate_to: [{manager: 2}]\n", "  escalate_to: [{manager: 2}]\n  timeout_after: 2d\n  on_timeout: explode\n", 10, `unknown on_timeout "explode"`},
		{"notify without cc", "    cc: [{role: hr}]\n", "", 32, "notify step tell without cc"},
		{"unknown currency", "min: 0.01", "min: 0.01\n    currency: EUR", 18, `unknown currency "EUR"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, goodFlow, tc.old)
			src := strings.Replace(goodFlow, tc.old, tc.new, 1)
			d, err := flowdef.Parse("trip.yaml", []byte(src))
			require.Nil(t, d)
			var errs flowdef.Errors
			require.True(t, errors.As(err, &errs), "got %v", err)
			require.Len(t, errs, 1, "got %v", err)
			require.Equal(t, "trip.yaml", errs[0].File)
			require.Equal(t, tc.line, errs[0].Line, "got %v", err)
			require.Contains(t, errs[0].Msg, tc.msg)
			require.Contains(t, err.Error(), "trip.yaml:"+strconv.Itoa(tc.line)+":")
		})
	}
}

func TestParseHTTPMistakes(t *testing.T) {
	t.Parallel()
	const base = `id: po
steps:
  - id: erp
    kind: http
    http:
      method: POST
      url: https://erp.example.com/po
      body: '{"n": {{ json .Instance.Number }}}'
      timeout: 5s
      retries: 2
      on_failure: continue
`
	d, err := flowdef.Parse("po.yaml", []byte(base))
	require.NoError(t, err)
	require.Equal(t, 5*time.Second, d.Steps[0].HTTP.Timeout)
	require.Equal(t, 15*time.Second+600*time.Millisecond, d.Steps[0].HTTP.WorstCase())
	// Just under the limit: 13s × 3 + 0.6s = 39.6s.
	d, err = flowdef.Parse("po.yaml", []byte(strings.Replace(base, "timeout: 5s", "timeout: 13s", 1)))
	require.NoError(t, err)
	require.Less(t, d.Steps[0].HTTP.WorstCase(), flowdef.MaxHTTPWorstCase)
	// The waits grow: 200ms, 400ms, 800ms, then 2s each.
	c := flowdef.HTTPCall{Timeout: time.Second, Retries: 6}
	require.Equal(t, 7*time.Second+(200+400+800+2000+2000+2000)*time.Millisecond, c.WorstCase())
	tests := []struct {
		name, old, new string
		line           int
		msg            string
	}{
		{"no url", "      url: https://erp.example.com/po\n", "", 6, "http step without url"},
		{"bad method", "method: POST", "method: FETCH", 6, `bad http method "FETCH"`},
		{"body template", "{{ json .Instance.Number }}", "{{ json .Instance.Number", 8, "body template does not parse"},
		{"relative url", "url: https://erp.example.com/po", "url: /po", 7, "must be an absolute http"},
		{"bad on_failure", "on_failure: continue", "on_failure: ignore", 11, `unknown on_failure "ignore"`},
		{"negative retries", "retries: 2", "retries: -1", 10, "retries must be from 0 to 10"},
		{"worst case over 40s", "timeout: 5s", "timeout: 15s", 9, "takes up to 45.6s in the worst case (timeout 15s × 3 attempts + 600ms of waits between them), more than the limit of 40s"},
		{"default timeout, many retries", "timeout: 5s\n      retries: 2", "retries: 3", 9, "takes up to 41.4s in the worst case (timeout 10s × 4 attempts + 1.4s of waits between them)"},
		{"lease named", "timeout: 5s", "timeout: 1m", 9, "notifier's delivery lease"},
		{"http block missing", "    http:\n      method: POST\n      url: https://erp.example.com/po\n      body: '{\"n\": {{ json .Instance.Number }}}'\n      timeout: 5s\n      retries: 2\n      on_failure: continue\n", "", 3, "http step erp without http block"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, base, tc.old)
			_, err := flowdef.Parse("po.yaml", []byte(strings.Replace(base, tc.old, tc.new, 1)))
			var errs flowdef.Errors
			require.True(t, errors.As(err, &errs), "got %v", err)
			require.Len(t, errs, 1, "got %v", err)
			require.Equal(t, tc.line, errs[0].Line, "got %v", err)
			require.Contains(t, errs[0].Msg, tc.msg)
		})
	}
}

func TestParseCollectsAllMistakes(t *testing.T) {
	t.Parallel()
	src := `id: x
colour: red
fields:
  - {id: a, type: text}
  - {id: a, type: float}
steps:
  - id: s
    kind: approve
    mode: some
`
	_, err := flowdef.Parse("x.yaml", []byte(src))
	var errs flowdef.Errors
	require.True(t, errors.As(err, &errs))
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	// unknown key, duplicate field id, unknown type, no approvers, bad mode.
	require.Equal(t, []int{2, 5, 5, 7, 9}, lines, "got %v", err)
	require.Len(t, strings.Split(err.Error(), "\n"), 5)
}

func TestParseNoSteps(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"id: x\n", "id: x\nsteps: []\n", "", "id: x\nsteps: [\n", "just text", "- id: x\n"} {
		_, err := flowdef.Parse("x.yaml", []byte(src))
		var errs flowdef.Errors
		require.True(t, errors.As(err, &errs), "%q gave %v", src, err)
		require.NotEmpty(t, errs)
	}
}

func TestParseDirDuplicates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600))
	}
	write("a.yaml", "id: a\naliases: [go, 出发]\nsteps: [{id: s, approvers: [{role: hr}]}]\n")
	write("b.yml", "id: b\naliases: [出发]\nsteps: [{id: s, approvers: [{role: hr}]}]\n")
	write("c.yaml", "id: a\nsteps: [{id: s, approvers: [{role: hr}]}]\n")
	write("d.yaml", "id: d\nsteps: [{id: s, approvers: [{nobody: x}]}]\n")
	write("notes.txt", "not a flow")
	_, _, err := flowdef.ParseDir(dir)
	var errs flowdef.Errors
	require.True(t, errors.As(err, &errs), "got %v", err)
	msg := err.Error()
	require.Contains(t, msg, `b.yml:1:1: alias "出发" is already used by flow a`)
	require.Contains(t, msg, `c.yaml:1:1: flow id "a" is already defined in`)
	require.Contains(t, msg, `d.yaml:2:30: unknown approver kind "nobody"`)
	require.Len(t, errs, 3)

	_, _, err = flowdef.ParseDir(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestHash(t *testing.T) {
	t.Parallel()
	require.Equal(t, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", flowdef.Hash(nil))
	require.NotEqual(t, flowdef.Hash([]byte("a")), flowdef.Hash([]byte("b")))
}

func TestApplies(t *testing.T) {
	t.Parallel()
	d, err := flowdef.Parse("trip.yaml", []byte(goodFlow))
	require.NoError(t, err)
	fin, _ := d.Step("finance")
	mgr, _ := d.Step("manager")
	tests := []struct {
		name string
		v    flowdef.Values
		want bool
	}{
		{"big and abroad", flowdef.Values{"budget": flowdef.Money{Cents: 500001, Currency: "CNY"}, "kind": "abroad"}, true},
		{"exactly the limit", flowdef.Values{"budget": flowdef.Money{Cents: 500000, Currency: "CNY"}, "kind": "abroad"}, false},
		{"domestic", flowdef.Values{"budget": flowdef.Money{Cents: 900000}, "kind": "domestic"}, false},
		{"json-decoded money", flowdef.Values{"budget": map[string]any{"cents": 600000.0, "currency": "CNY"}, "kind": "abroad"}, true},
		{"missing fields", flowdef.Values{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := d.Env(tc.v, flowdef.Applicant{ID: "lilei"})
			got, err := fin.Applies(env)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			always, err := mgr.Applies(env)
			require.NoError(t, err)
			require.True(t, always)
		})
	}
}

func TestAppliesApplicantAndRange(t *testing.T) {
	t.Parallel()
	src := `id: x
fields:
  - {id: period, type: daterange}
  - {id: tags, type: multiselect, options: [a, b]}
  - {id: urgent, type: bool}
steps:
  - id: s
    when: period.days > 3 || "cfo" in applicant.roles || "b" in tags || urgent
    approvers: [{role: hr}]
`
	d, err := flowdef.Parse("x.yaml", []byte(src))
	require.NoError(t, err)
	s := &d.Steps[0]
	tests := []struct {
		name string
		v    flowdef.Values
		a    flowdef.Applicant
		want bool
	}{
		{"long", flowdef.Values{"period": flowdef.DateRange{From: "2026-12-01", To: "2026-12-04", Days: 4}}, flowdef.Applicant{}, true},
		{"short", flowdef.Values{"period": flowdef.DateRange{From: "2026-12-01", To: "2026-12-03", Days: 3}}, flowdef.Applicant{}, false},
		{"cfo", flowdef.Values{}, flowdef.Applicant{Roles: []string{"cfo"}}, true},
		{"tag b", flowdef.Values{"tags": []string{"b"}}, flowdef.Applicant{}, true},
		{"urgent", flowdef.Values{"urgent": true}, flowdef.Applicant{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := s.Applies(d.Env(tc.v, tc.a))
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	// A step built by hand (not parsed) is compiled on the fly.
	hand := flowdef.Step{ID: "h", When: "applicant.dept == 'eng'"}
	ok, err := hand.Applies(d.Env(nil, flowdef.Applicant{Dept: "eng"}))
	require.NoError(t, err)
	require.True(t, ok)
	hand.When = "nope >"
	_, err = hand.Applies(d.Env(nil, flowdef.Applicant{}))
	require.ErrorContains(t, err, "compile condition of step h")
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	good := map[string]time.Duration{"30m": 30 * time.Minute, "8h": 8 * time.Hour, "2d": 48 * time.Hour, "1d12h": 36 * time.Hour, "1.5h": 90 * time.Minute, "90s": 90 * time.Second, "100000s": 100000 * time.Second}
	for in, want := range good {
		got, err := flowdef.ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "4", "h", "4 hours", "4w", "-1h", "0m", "99999999d", "1e9h", "1..2h"} {
		_, err := flowdef.ParseDuration(in)
		require.Error(t, err, in)
	}
}

func TestDeadlineOfMergesKeyByKey(t *testing.T) {
	t.Parallel()
	const src = `id: po
deadline:
  remind_after: 4h
  remind_every: 4h
  escalate_after: 1d
  escalate_to: [{manager: 2}]
  timeout_after: 3d
  on_timeout: reject
steps:
  - id: plain
    approvers: [{role: hr}]
  - id: quick
    approvers: [{role: hr}]
    deadline: {remind_after: 1h, on_timeout: none}
  - id: other_boss
    approvers: [{role: hr}]
    deadline: {escalate_to: [{role: admin}]}
`
	d, err := flowdef.Parse("po.yaml", []byte(src))
	require.NoError(t, err, "escalate_to alone is fine when the flow gives escalate_after")
	flowDL := d.Deadline
	plain, _ := d.Step("plain")
	require.Equal(t, flowDL, d.DeadlineOf(plain))

	quick, _ := d.Step("quick")
	got := d.DeadlineOf(quick)
	require.Equal(t, time.Hour, got.RemindAfter, "the step's key wins")
	require.Equal(t, 4*time.Hour, got.RemindEvery, "keys the step leaves out come from the flow")
	require.Equal(t, 24*time.Hour, got.EscalateAfter)
	require.Equal(t, flowDL.EscalateTo, got.EscalateTo)
	require.Equal(t, 72*time.Hour, got.TimeoutAfter)
	require.Equal(t, flowdef.TimeoutNothing, got.OnTimeout, "on_timeout: none turns the flow's auto-reject off")

	other, _ := d.Step("other_boss")
	got = d.DeadlineOf(other)
	require.Equal(t, []flowdef.SelectorKind{flowdef.SelRole}, []flowdef.SelectorKind{got.EscalateTo[0].Kind})
	require.Equal(t, "admin", got.EscalateTo[0].Value)
	require.Equal(t, 24*time.Hour, got.EscalateAfter)
	require.Equal(t, flowdef.TimeoutReject, got.OnTimeout)
	require.Equal(t, flowDL, d.Deadline, "merging does not change the flow default")

	// Without a flow default, escalate_to alone is still a mistake.
	_, err = flowdef.Parse("po.yaml", []byte("id: po\nsteps:\n  - id: s\n    approvers: [{role: hr}]\n    deadline: {escalate_to: [{role: admin}]}\n"))
	require.ErrorContains(t, err, "po.yaml:5:")
	require.ErrorContains(t, err, "escalate_to without escalate_after")
}

func TestOwner(t *testing.T) {
	t.Parallel()
	const base = "id: po\nsteps:\n  - id: a\n    approvers: [{role: hr}]\n"
	tests := []struct {
		line, want, err string
	}{
		{"owner: sunli\n", "sunli", ""},
		{"", "", ""},
		{"owner: two users\n", "", "owner must be one user id"},
		{"owner: [a, b]\n", "", "owner must be a single value"},
		{"owner: \"\"\n", "", "owner must be one user id"},
	}
	for _, tc := range tests {
		d, err := flowdef.Parse("po.yaml", []byte(tc.line+base))
		if tc.err != "" {
			require.ErrorContains(t, err, tc.err, tc.line)
			continue
		}
		require.NoError(t, err, tc.line)
		require.Equal(t, tc.want, d.Owner)
	}
}
