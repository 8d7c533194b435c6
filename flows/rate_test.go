package flows_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/flowbot/flowbot/flows"
)

const ratedYAML = `
id: rated
name: {zh: 评价, en: Rated}
satisfaction: true
steps:
  - id: manager
    name: {zh: 上级, en: Manager}
    approvers: [{manager: 1}]
`

func TestRateOnceByTheApplicantAfterTheEnd(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, _, err := b.engine.PublishFlow(b.ctx, "rated.yaml", []byte(ratedYAML))
	require.NoError(t, err)
	out := b.submit(t, "dev1", "rated", nil)
	id := out.Instance.ID
	code := func(err error) string {
		var fe *flows.Error
		require.True(t, errors.As(err, &fe), "%v", err)
		return fe.Key
	}
	before := snapshot(t, b)
	_, err = b.engine.Rate(b.ctx, "dev1", id, 5, "")
	require.Equal(t, "rating_not_done", code(err), "not before the request ends")
	require.Equal(t, before, snapshot(t, b))

	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "cto", TaskID: pending(out)["cto"].ID, Approve: true})
	require.NoError(t, err)
	before = snapshot(t, b)
	cases := []struct {
		name, actor string
		score       int
		comment     string
		key         string
	}{
		{"zero", "dev1", 0, "", "rating_range"},
		{"six", "dev1", 6, "", "rating_range"},
		{"negative", "dev1", -1, "", "rating_range"},
		{"comment too long", "dev1", 3, strings.Repeat("好", 501), "rating_too_long"},
		{"not the applicant", "cto", 4, "", "not_applicant"},
		{"unknown user", "nobody", 4, "", "not_applicant"},
	}
	for _, tc := range cases {
		_, err := b.engine.Rate(b.ctx, tc.actor, id, tc.score, tc.comment)
		require.Equal(t, tc.key, code(err), tc.name)
		require.Equal(t, before, snapshot(t, b), "%s changed nothing", tc.name)
	}
	_, err = b.engine.Rate(b.ctx, "dev1", 999999, 4, "")
	require.Equal(t, "instance_unknown", code(err))

	_, err = b.engine.Rate(b.ctx, "dev1", id, 4, "  fast, thanks  ")
	require.NoError(t, err)
	evs, err := b.store.Events(b.ctx, flows.EventFilter{InstanceID: id, Types: []flows.EventType{flows.EvRated}})
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, "dev1", evs[0].Actor)
	require.JSONEq(t, `{"score":4,"comment":"fast, thanks"}`, string(evs[0].Data))

	before = snapshot(t, b)
	_, err = b.engine.Rate(b.ctx, "dev1", id, 1, "")
	require.Equal(t, "rating_twice", code(err))
	require.Equal(t, before, snapshot(t, b))

	// A flow without satisfaction: true takes no ratings.
	x := b.submit(t, "dev1", "anyfin", nil)
	_, err = b.engine.Decide(b.ctx, flows.DecideRequest{Actor: "fin1", TaskID: pending(x)["fin1"].ID, Approve: true})
	require.NoError(t, err)
	_, err = b.engine.Rate(b.ctx, "dev1", x.Instance.ID, 5, "")
	require.Equal(t, "rating_off", code(err))
}
