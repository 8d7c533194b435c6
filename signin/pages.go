package signin

import (
	"html/template"
	"net/http"
)

// page is one of the few pages sign-in shows itself, in both languages.
type page struct {
	Title, TitleEN string
	Text, TextEN   string
	Link, LinkText string
}

var (
	pageRetry = page{
		Title: "登录没有完成", TitleEN: "Sign-in did not complete",
		Text:   "登录请求已过期、被篡改或被身份提供方拒绝。请重新登录；如果一直失败，请联系管理员。",
		TextEN: "The sign-in request expired, was tampered with, or was refused by the identity provider. Please sign in again; if it keeps failing, contact your administrator.",
		Link:   "/auth/login", LinkText: "重新登录 / Sign in again",
	}
	pageUnknown = page{
		Title: "你不在通讯录中", TitleEN: "You are not in the directory",
		Text:   "身份提供方确认了你的身份，但 flowbot 的通讯录中没有与你的账号（邮箱或用户 ID）对应的员工。请联系管理员把你加入通讯录。",
		TextEN: "Your identity provider confirmed who you are, but flowbot's directory has no employee matching your account (email or user id). Ask your administrator to add you to the directory.",
	}
	pageUnavailable = page{
		Title: "暂时无法登录", TitleEN: "Sign-in is unavailable",
		Text:   "flowbot 暂时无法完成登录，请稍后重试。",
		TextEN: "flowbot cannot complete the sign-in right now. Please try again in a moment.",
		Link:   "/auth/login", LinkText: "重试 / Try again",
	}
	pageSignedOut = page{
		Title: "已退出登录", TitleEN: "Signed out",
		Text:   "你已退出 flowbot。",
		TextEN: "You have signed out of flowbot.",
		Link:   "/auth/login", LinkText: "再次登录 / Sign in again",
	}
)

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} / {{.TitleEN}} · flowbot</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.3rem}h1 small{display:block;color:#666;font-weight:normal}p{line-height:1.5}
a.btn{display:inline-block;margin-top:1rem;padding:.5rem 1rem;background:#3370ff;color:#fff;border-radius:6px;text-decoration:none}</style>
</head><body data-testid="signin-page">
<h1>{{.Title}}<small lang="en">{{.TitleEN}}</small></h1>
<p>{{.Text}}</p>
<p lang="en">{{.TextEN}}</p>
{{if .Link}}<a class="btn" href="{{.Link}}" data-testid="signin-again">{{.LinkText}}</a>{{end}}
</body></html>
`))

func (s *Service) page(w http.ResponseWriter, status int, p page) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, p); err != nil {
		s.log.Warn("write sign-in page", "err", err)
	}
}
