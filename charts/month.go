package charts

import (
	"time"

	"github.com/flowbot/flowbot/flows/flowstats"
)

// MonthHealth is the chart of one flow's month from its figures: the
// requests filed and the median time to a decision of every week of both
// months, the month's steps (in order, the flow's step ids; steps without
// figures are left out) with their share of the waiting time, and the
// bottleneck in red. day is the length of a working day.
func MonthHealth(title string, m *flowstats.Month, order []string, day time.Duration) Health {
	if day <= 0 {
		day = 24 * time.Hour
	}
	h := Health{Title: title}
	for _, w := range m.Weeks {
		h.Weeks = append(h.Weeks, Week{Start: w.Start, Filed: w.Submitted, Median: float64(w.DecisionWork.Median) / float64(day)})
	}
	byID := map[string]flowstats.WaitFigures{}
	for _, st := range m.Steps {
		byID[st.StepID] = st
	}
	for _, id := range order {
		if st, ok := byID[id]; ok {
			h.Steps = append(h.Steps, Step{ID: id, Share: st.Share, Median: float64(st.WaitWork.Median) / float64(day)})
		}
	}
	if m.Bottleneck != nil {
		h.Bottleneck = m.Bottleneck.StepID
	}
	return h
}
