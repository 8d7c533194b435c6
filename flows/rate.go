package flows

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"
)

// EvRated: the applicant rated a finished request (Data: score 1-5 and an
// optional comment).
const EvRated EventType = "rated"

// maxRatingComment bounds a rating's comment, in characters.
const maxRatingComment = 500

// Rate records the applicant's satisfaction with a finished request of a
// flow that asks for it (satisfaction: true): a score from 1 to 5 and an
// optional comment, once, as an event of the request's audit trail.
func (e *Engine) Rate(ctx context.Context, actor string, instanceID int64, score int, comment string) (*Outcome, error) {
	comment = strings.TrimSpace(comment)
	if score < 1 || score > 5 {
		return nil, Errorf(CodeInvalid, "rating_range", nil)
	}
	if utf8.RuneCountInString(comment) > maxRatingComment {
		return nil, Errorf(CodeInvalid, "rating_too_long", map[string]any{"max": maxRatingComment})
	}
	return e.run(ctx, "rate", func(o *op) error {
		l, err := e.load(o, instanceID)
		if err != nil {
			return err
		}
		if !l.def.Satisfaction {
			return Errorf(CodeInvalid, "rating_off", nil)
		}
		if actor != l.in.Applicant {
			return Errorf(CodeForbidden, "not_applicant", nil)
		}
		if l.in.Status != StatusApproved && l.in.Status != StatusRejected {
			return Errorf(CodeConflict, "rating_not_done", nil)
		}
		evs, err := o.tx.EventsOf(l.in.ID)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		for _, ev := range evs {
			if ev.Type == EvRated {
				return Errorf(CodeConflict, "rating_twice", nil)
			}
		}
		if err := o.event(l.in, nil, EvRated, actor, false, map[string]any{"score": score, "comment": comment}); err != nil {
			return err
		}
		return o.save(l.in) // the revision guards two ratings at once
	})
}
