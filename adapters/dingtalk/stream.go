package dingtalk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/client"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/payload"
	"github.com/open-dingtalk/dingtalk-stream-sdk-go/utils"
)

// stream is the Stream connection of one app. The SDK's StreamClient
// opens the connection (POST /v1.0/gateway/connections/open with the
// subscriptions it routes) and routes frames to handlers; the adapter
// reads the socket itself because the SDK's own loop can neither report a
// dropped socket (with auto-reconnect off) nor stop on a context (with it
// on, it retries forever every 3 s).
type stream struct {
	a   *Adapter
	p   *app
	cli *client.StreamClient

	wmu  sync.Mutex
	conn *websocket.Conn
}

func newStream(a *Adapter, p *app) *stream {
	s := &stream{a: a, p: p}
	s.cli = client.NewStreamClient(
		client.WithAppCredential(client.NewAppCredentialConfig(p.cfg.Key, p.cfg.Secret)),
		client.WithOpenApiHost(p.cfg.BaseURL),
		client.WithAutoReconnect(false),
		client.WithSubscription(utils.SubscriptionTypeKSystem, "disconnect", s.onDisconnect),
	)
	s.cli.RegisterCallbackRouter(payload.BotMessageCallbackTopic, s.onBotMessage)
	s.cli.RegisterCallbackRouter(payload.CardInstanceCallbackTopic, s.onCard)
	if a.dir != nil {
		s.cli.RegisterAllEventRouter(s.onEvent)
	}
	return s
}

// run connects, reads until the socket drops, and reconnects with
// exponential backoff until ctx ends. The first connection's outcome goes
// to first.
func (s *stream) run(ctx context.Context, first chan<- error) {
	wait := s.a.cfg.ReconnectMin
	reported := false
	for {
		err := s.connect(ctx)
		if !reported {
			first <- err
			reported = true
		}
		if err == nil {
			wait = s.a.cfg.ReconnectMin
			s.read(ctx)
		} else {
			s.a.log.Warn("stream connect failed", "app", s.p.cfg.Key, "err", err, "retry_in", wait)
		}
		if ctx.Err() != nil {
			return
		}
		s.a.metrics.Inc(s.p.cfg.Key, "reconnect")
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, s.a.cfg.ReconnectMax)
	}
}

func (s *stream) connect(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	ep, err := s.cli.GetConnectionEndpoint(cctx)
	if err != nil {
		return fmt.Errorf("dingtalk: open connection: %w", err)
	}
	conn, resp, err := websocket.DefaultDialer.DialContext(cctx, ep.Endpoint+"?ticket="+ep.Ticket, nil)
	if resp != nil && resp.Body != nil {
		_ = resp.Body.Close()
	}
	if err != nil {
		return fmt.Errorf("dingtalk: dial stream: %w", err)
	}
	s.wmu.Lock()
	s.conn = conn
	s.wmu.Unlock()
	s.setConnected(true)
	return nil
}

func (s *stream) setConnected(v bool) {
	s.p.connMu.Lock()
	s.p.connected = v
	s.p.connMu.Unlock()
}

// read handles frames until the socket ends or ctx is cancelled; frame
// handlers run concurrently (as in the SDK) and are awaited before it
// returns.
func (s *stream) read(ctx context.Context) {
	s.wmu.Lock()
	conn := s.conn
	s.wmu.Unlock()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	var wg sync.WaitGroup
	defer func() {
		s.setConnected(false)
		_ = conn.Close()
		wg.Wait()
	}()
	for {
		typ, msg, err := conn.ReadMessage()
		if err != nil {
			if ctx.Err() == nil {
				s.a.log.Warn("stream dropped", "app", s.p.cfg.Key, "err", err)
			}
			return
		}
		if typ != websocket.TextMessage {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.frame(ctx, conn, msg)
		}()
	}
}

// frame decodes one frame, routes it as the SDK does and writes the ack.
func (s *stream) frame(ctx context.Context, conn *websocket.Conn, raw []byte) {
	df, err := DecodeFrame(raw)
	if err != nil {
		s.a.log.Warn("bad stream frame", "app", s.p.cfg.Key, "err", err)
		return
	}
	s.a.metrics.Inc(s.p.cfg.Key, "frame_in")
	var ack *payload.DataFrameResponse
	h, err := s.cli.GetHandler(df.Type, df.GetTopic())
	if err != nil || h == nil {
		ack = payload.NewDataFrameResponse(payload.DataFrameResponseStatusCodeKHandlerNotFound)
	} else {
		ack, err = h(ctx, df)
		if err != nil && ack == nil {
			ack = payload.NewErrorDataFrameResponse(err)
		}
	}
	if ack == nil {
		ack = payload.NewSuccessDataFrameResponse()
	}
	if ack.GetHeader(payload.DataFrameHeaderKMessageId) == "" {
		ack.SetHeader(payload.DataFrameHeaderKMessageId, df.GetMessageId())
	}
	if ack.GetHeader(payload.DataFrameHeaderKContentType) == "" {
		ack.SetHeader(payload.DataFrameHeaderKContentType, payload.DataFrameContentTypeKJson)
	}
	s.wmu.Lock()
	err = conn.WriteJSON(ack)
	s.wmu.Unlock()
	if err != nil {
		s.a.log.Warn("stream ack", "app", s.p.cfg.Key, "err", err)
		return
	}
	s.a.metrics.Inc(s.p.cfg.Key, "ack")
	if df.Type == utils.SubscriptionTypeKSystem && df.GetTopic() == "disconnect" {
		_ = conn.Close() // after the ack, never before it
	}
}

// DecodeFrame decodes a Stream frame and checks the headers every frame
// carries.
func DecodeFrame(raw []byte) (*payload.DataFrame, error) {
	df, err := payload.DecodeDataFrame(raw)
	if err != nil {
		return nil, fmt.Errorf("dingtalk: decode frame: %w", err)
	}
	if df.Headers == nil || df.GetMessageId() == "" || df.GetTopic() == "" {
		return nil, errors.New("dingtalk: decode frame: missing messageId or topic header")
	}
	return df, nil
}

// onDisconnect acks the gateway's notice; frame closes the socket once the
// ack is written, and the reader then reconnects.
func (s *stream) onDisconnect(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	return nil, nil
}

func (s *stream) onBotMessage(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	res := s.a.onMessage(ctx, s.p, []byte(df.Data))
	return s.ackFor(res)
}

func (s *stream) onCard(ctx context.Context, df *payload.DataFrame) (*payload.DataFrameResponse, error) {
	res := s.a.onCard(ctx, s.p, []byte(df.Data), df.GetMessageId())
	return s.ackFor(res)
}

// ackFor answers a handled frame: SUCCESS (with the card callback's
// response), or LATER for a frame DingTalk should deliver again.
func (s *stream) ackFor(res result) (*payload.DataFrameResponse, error) {
	ack := payload.NewSuccessDataFrameResponse()
	if res.later {
		s.a.metrics.Inc(s.p.cfg.Key, "later")
		_ = ack.SetJson(map[string]string{"status": "LATER", "message": res.err})
		return ack, nil
	}
	if res.card != nil {
		if err := ack.SetJson(map[string]any{"response": res.card}); err != nil {
			return nil, err
		}
		return ack, nil
	}
	b, _ := json.Marshal(map[string]string{"status": "SUCCESS", "message": res.err})
	ack.SetData(string(b))
	return ack, nil
}
