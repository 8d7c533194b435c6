package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/flowbot/flowbot/flows"
	"github.com/flowbot/flowbot/flows/flowdef"
)

// Code is the machine-readable code of an error body. Every code a
// handler writes is one of these constants (the OpenAPI test checks that
// the document declares each).
type Code string

const (
	CodeUnauthorized Code = "unauthorized" // 401: no, unknown, revoked or expired token
	CodeForbidden    Code = "forbidden"    // 403: scope or the acting user's rights
	CodeNotFound     Code = "not_found"    // 404
	CodeInvalid      Code = "invalid"      // 400: malformed body, bad parameter
	CodeConflict     Code = "conflict"     // 409: already decided, closed, idempotency key used
	CodeTooLarge     Code = "too_large"    // 413: body over the limit
	CodeRateLimited  Code = "rate_limited" // 429
	CodeInternal     Code = "internal"     // 500
	CodeUnavailable  Code = "unavailable"  // 503: database down
)

var codeStatus = map[Code]int{
	CodeUnauthorized: http.StatusUnauthorized, CodeForbidden: http.StatusForbidden,
	CodeNotFound: http.StatusNotFound, CodeInvalid: http.StatusBadRequest,
	CodeConflict: http.StatusConflict, CodeTooLarge: http.StatusRequestEntityTooLarge,
	CodeRateLimited: http.StatusTooManyRequests, CodeInternal: http.StatusInternalServerError,
	CodeUnavailable: http.StatusServiceUnavailable,
}

// apiError is an error of this package with a message in zh and en.
type apiError struct {
	Code Code
	Text flowdef.Text
	// Details are appended to the message (e.g. a definition's mistakes).
	Details []string
}

func (e *apiError) Error() string { return string(e.Code) + ": " + e.Text.EN }

func errf(code Code, zh, en string) *apiError {
	return &apiError{Code: code, Text: flowdef.Text{ZH: zh, EN: en}}
}

var (
	errNoToken     = errf(CodeUnauthorized, "缺少 API 令牌：请在 Authorization 头里给出 Bearer 令牌。", "Missing API token: send Authorization: Bearer <token>.")
	errBadToken    = errf(CodeUnauthorized, "API 令牌无效。", "The API token is not valid.")
	errRevoked     = errf(CodeUnauthorized, "API 令牌已被吊销。", "The API token was revoked.")
	errExpired     = errf(CodeUnauthorized, "API 令牌已过期。", "The API token has expired.")
	errScope       = errf(CodeForbidden, "API 令牌的权限范围不允许这个操作。", "The API token's scopes do not allow this.")
	errFlowScope   = errf(CodeForbidden, "API 令牌不能访问这个流程。", "The API token may not touch this flow.")
	errActAs       = errf(CodeForbidden, "绑定用户的令牌不能代表其他用户操作。", "A token bound to a user cannot act for another user.")
	errNeedActor   = errf(CodeInvalid, "服务令牌需要用 X-On-Behalf-Of 头指明代表哪个用户。", "A service token must name the acting user in the X-On-Behalf-Of header.")
	errTooLarge    = errf(CodeTooLarge, "请求体太大。", "The request body is too large.")
	errRate        = errf(CodeRateLimited, "请求太频繁，请稍后再试。", "Too many requests; slow down and retry.")
	errInternal    = errf(CodeInternal, "内部错误，请稍后再试。", "Internal error; try again later.")
	errNotFound    = errf(CodeNotFound, "没有这个接口。", "No such endpoint.")
	errBadCursor   = errf(CodeInvalid, "分页游标无效。", "The cursor is not valid.")
	errUnknownUser = errf(CodeForbidden, "令牌代表的用户不在通讯录里。", "The token's user is not in the directory.")
)

func errInvalid(zh, en string) *apiError { return errf(CodeInvalid, zh, en) }

// errorBody is the body of every error answer.
type errorBody struct {
	Error struct {
		Code      Code              `json:"code"`
		Message   string            `json:"message"`
		RequestID string            `json:"request_id"`
		Fields    map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// locale picks zh-CN or en from Accept-Language (default en).
func locale(r *http.Request) string {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(r.Header.Get("Accept-Language"))), "zh") {
		return "zh-CN"
	}
	return "en"
}

// writeError answers err: an *apiError or a flows.Error keeps its code
// and message; anything else is logged and answered "internal".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	loc := locale(r)
	var body errorBody
	body.Error.RequestID = requestID(r.Context())
	var ae *apiError
	var fe *flows.Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		body.Error.Code, body.Error.Message = errTooLarge.Code, errTooLarge.Text.In(loc)
	case errors.As(err, &ae):
		body.Error.Code, body.Error.Message = ae.Code, ae.Text.In(loc)+strings.Join(ae.Details, "; ")
	case errors.As(err, &fe):
		body.Error.Code, body.Error.Message = fromFlows(fe.Code), fe.Message(loc)
		for k, v := range fe.Fields {
			if body.Error.Fields == nil {
				body.Error.Fields = map[string]string{}
			}
			body.Error.Fields[k] = v.In(loc)
		}
	default:
		s.logger(r.Context()).Error("api call failed", "err", err)
		body.Error.Code, body.Error.Message = errInternal.Code, errInternal.Text.In(loc)
	}
	if body.Error.Code == CodeUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="flowbot"`)
	}
	writeJSON(w, codeStatus[body.Error.Code], body)
}

func fromFlows(c flows.Code) Code {
	switch c {
	case flows.CodeInvalid:
		return CodeInvalid
	case flows.CodeForbidden:
		return CodeForbidden
	case flows.CodeNotFound:
		return CodeNotFound
	case flows.CodeConflict:
		return CodeConflict
	case flows.CodeRateLimited:
		return CodeRateLimited
	}
	return CodeInternal
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// logger is the request's logger (with its request id).
func (s *Server) logger(ctx interface{ Value(any) any }) *slog.Logger {
	if l, ok := ctx.Value(loggerKey{}).(*slog.Logger); ok {
		return l
	}
	return s.log
}
