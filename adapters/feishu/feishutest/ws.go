package feishutest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	larkws "github.com/larksuite/oapi-sdk-go/v3/ws"
)

// clientConfig is sent with every bootstrap. All four fields are set: a
// zero PingInterval would make the SDK ping in a busy loop.
var clientConfig = larkws.ClientConfig{ReconnectCount: 1, ReconnectInterval: 120, ReconnectNonce: 1, PingInterval: 120}

// handleEndpoint is the long connection's bootstrap.
func (s *Server) handleEndpoint(w http.ResponseWriter, r *http.Request) {
	var req larkws.BootstrapRequest
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<16)).Decode(&req); err != nil {
		writeFeishu(w, http.StatusBadRequest, codeBadParam, "invalid json", nil)
		return
	}
	s.mu.Lock()
	a, ok := s.apps[req.AppID]
	if !ok || a.Secret != req.AppSecret {
		s.mu.Unlock()
		writeFeishu(w, http.StatusOK, codeBadSecret, "app secret invalid", nil)
		return
	}
	device := randomID("d")
	s.devices[device] = a.ID
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws?device_id=" + device + "&service_id=1"
	cc := clientConfig
	writeFeishu(w, http.StatusOK, 0, "ok", larkws.Endpoint{Url: u, ClientConfig: &cc})
}

// wsConn is one adapter's long connection.
type wsConn struct {
	c       *websocket.Conn
	s       *Server
	mu      sync.Mutex
	waiting map[string]chan larkws.Response
	done    chan struct{}
	once    sync.Once
}

func (s *Server) handleWS(w http.ResponseWriter, r *http.Request) {
	device := r.URL.Query().Get("device_id")
	s.mu.Lock()
	appID, ok := s.devices[device]
	s.mu.Unlock()
	if !ok {
		w.Header().Set(larkws.HeaderHandshakeStatus, strconv.Itoa(larkws.Forbidden))
		w.Header().Set(larkws.HeaderHandshakeMsg, "unknown device")
		http.Error(w, "unknown device", http.StatusForbidden)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return
	}
	c.SetReadLimit(1 << 20)
	conn := &wsConn{c: c, s: s, waiting: map[string]chan larkws.Response{}, done: make(chan struct{})}
	s.mu.Lock()
	if old := s.conns[appID]; old != nil {
		defer old.close()
	}
	s.conns[appID] = conn
	s.mu.Unlock()
	conn.readLoop()
	s.mu.Lock()
	if s.conns[appID] == conn {
		delete(s.conns, appID)
	}
	s.mu.Unlock()
}

func (c *wsConn) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.c.CloseNow()
	})
}

func (c *wsConn) readLoop() {
	defer c.close()
	ctx := context.Background()
	for {
		typ, b, err := c.c.Read(ctx)
		if err != nil {
			return
		}
		if typ != websocket.MessageBinary {
			continue
		}
		var f larkws.Frame
		if err := f.Unmarshal(b); err != nil {
			continue
		}
		hs := larkws.Headers(f.Headers)
		switch larkws.FrameType(f.Method) {
		case larkws.FrameTypeControl:
			if hs.GetString(larkws.HeaderType) == string(larkws.MessageTypePing) {
				pong := larkws.Frame{Service: f.Service, Method: int32(larkws.FrameTypeControl)}
				ph := larkws.Headers{}
				ph.Add(larkws.HeaderType, string(larkws.MessageTypePong))
				pong.Headers = ph
				out, _ := pong.Marshal()
				_ = c.c.Write(ctx, websocket.MessageBinary, out)
			}
		case larkws.FrameTypeData:
			var resp larkws.Response
			if err := json.Unmarshal(f.Payload, &resp); err != nil {
				continue
			}
			id := hs.GetString(larkws.HeaderMessageID)
			c.mu.Lock()
			ch := c.waiting[id]
			delete(c.waiting, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- resp
			}
		}
	}
}

// push sends an event frame and waits for the client's response frame.
func (c *wsConn) push(payload []byte) (Result, error) {
	c.s.mu.Lock()
	c.s.seq++
	seq := c.s.seq
	c.s.mu.Unlock()
	id := randomID("msg_")
	hs := larkws.Headers{}
	hs.Add(larkws.HeaderType, string(larkws.MessageTypeEvent))
	hs.Add(larkws.HeaderMessageID, id)
	hs.Add(larkws.HeaderTraceID, randomID("trace_"))
	hs.Add(larkws.HeaderSum, "1")
	hs.Add(larkws.HeaderSeq, "0")
	hs.Add(larkws.HeaderTimestamp, strconv.FormatInt(time.Now().UnixMilli(), 10))
	f := larkws.Frame{SeqID: seq, LogID: seq, Service: 1, Method: int32(larkws.FrameTypeData), Headers: hs, Payload: payload}
	b, err := f.Marshal()
	if err != nil {
		return Result{}, fmt.Errorf("marshal frame: %w", err)
	}
	ch := make(chan larkws.Response, 1)
	c.mu.Lock()
	c.waiting[id] = ch
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.c.Write(ctx, websocket.MessageBinary, b); err != nil {
		return Result{}, fmt.Errorf("write frame: %w", err)
	}
	select {
	case r := <-ch:
		return Result{Status: r.StatusCode, Body: r.Data}, nil
	case <-c.done:
		return Result{}, errors.New("connection closed")
	case <-ctx.Done():
		return Result{}, fmt.Errorf("no response frame: %w", ctx.Err())
	}
}

// Connected reports whether the app has an open long connection.
func (s *Server) Connected(appID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[appID] != nil
}
