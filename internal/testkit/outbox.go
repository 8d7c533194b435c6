package testkit

import "github.com/flowbot/flowbot/flows"

// OutboxIDs is the ids of ms, in their order.
func OutboxIDs(ms []*flows.OutboxMessage) []int64 {
	out := make([]int64, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}
