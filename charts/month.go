package charts

import (
	"time"

	"github.com/flowbot/flowbot/flows/flowdef"
	"github.com/flowbot/flowbot/flows/flowstats"
)

// MonthHealth is the chart of flow d's month from its figures, titled
// with the flow's id and the month, labelled in lang: the requests filed
// and the median time to a decision of every week of both months, the
// month's steps (in the flow's order; steps without figures are left out)
// with their share of the waiting time, and the bottleneck in red. day is
// the length of a working day.
func MonthHealth(d *flowdef.Definition, m *flowstats.Month, day time.Duration, lang string) Health {
	if day <= 0 {
		day = 24 * time.Hour
	}
	h := Health{Title: d.ID + " · " + m.Start.Format("2006-01"), Lang: lang}
	for _, w := range m.Weeks {
		h.Weeks = append(h.Weeks, Week{Start: w.Start, Filed: w.Submitted, Median: float64(w.DecisionWork.Median) / float64(day)})
	}
	byID := map[string]flowstats.WaitFigures{}
	for _, st := range m.Steps {
		byID[st.StepID] = st
	}
	for _, s := range d.Steps {
		if st, ok := byID[s.ID]; ok {
			h.Steps = append(h.Steps, Step{ID: s.ID, Share: st.Share, Median: float64(st.WaitWork.Median) / float64(day)})
		}
	}
	if m.Bottleneck != nil {
		h.Bottleneck = m.Bottleneck.StepID
	}
	return h
}
