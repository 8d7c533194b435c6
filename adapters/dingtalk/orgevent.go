package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/open-dingtalk/dingtalk-stream-sdk-go/event"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"

	"github.com/flowbot/flowbot/adapters/dingtalk/dingtalkdir"
	"github.com/flowbot/flowbot/bots/dirsync"
)

// onEvent handles an EVENT frame: an organisation change goes to the
// Directory, one change per id it names; other events are acknowledged.
// A malformed organisation event is acknowledged without effect (its ack
// says why: DingTalk would only send it again); a failure of the
// directory answers LATER, and DingTalk delivers the event again (applying
// it twice changes nothing).
func (s *stream) onEvent(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	h := event.NewEventHeaderFromDataFrame(df)
	evs, err := dingtalkdir.DecodeOrgEvent(h.EventType, []byte(df.Data))
	if errors.Is(err, dingtalkdir.ErrNotOrgEvent) {
		s.a.metrics.Inc(s.p.cfg.Key, "event_ignored")
		return eventAck(event.EventProcessStatusKSuccess, "ignored")
	}
	if err != nil {
		s.a.log.Warn("organisation event refused", "app", s.p.cfg.Key, "event_id", h.EventId, "err", err)
		s.a.metrics.Inc(s.p.cfg.Key, "event_refused")
		return eventAck(event.EventProcessStatusKSuccess, "refused: malformed event")
	}
	ctx, cancel := context.WithTimeout(ctx, s.a.cfg.MessageTimeout)
	defer cancel()
	for _, ev := range evs {
		ev.Platform = Platform
		if h.EventBornTime > 0 {
			ev.At = time.UnixMilli(h.EventBornTime)
		}
		err := s.a.dir.ApplyEvent(ctx, s.p.cfg.Key, ev)
		switch {
		case errors.Is(err, dirsync.ErrNoBaseline), errors.Is(err, dirsync.ErrNotSynced):
			s.a.log.Warn("organisation event ignored", "app", s.p.cfg.Key, "event_id", h.EventId, "err", err)
			s.a.metrics.Inc(s.p.cfg.Key, "event_ignored")
			return eventAck(event.EventProcessStatusKSuccess, "ignored")
		case err != nil:
			s.a.log.Error("apply organisation event", "app", s.p.cfg.Key, "event_id", h.EventId, "type", h.EventType, "err", err)
			s.a.metrics.Inc(s.p.cfg.Key, "later")
			return eventAck(event.EventProcessStatusKLater, "internal error, deliver again")
		}
	}
	s.a.metrics.Inc(s.p.cfg.Key, "event_ok")
	return eventAck(event.EventProcessStatusKSuccess, "success")
}

func eventAck(status event.EventProcessStatusType, msg string) (*payload.DataFrameResponse, error) {
	ack := payload.NewSuccessDataFrameResponse()
	b, err := json.Marshal(event.EventProcessResult{Status: status, Message: msg})
	if err != nil {
		return nil, err
	}
	ack.SetData(string(b))
	return ack, nil
}
