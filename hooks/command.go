package hooks

import (
	"fmt"
	"strings"

	"github.com/nap-paas/nap/render"
)

// Verbs are the git services the forced command lets through.
var Verbs = []string{"git-receive-pack", "git-upload-pack", "git-upload-archive"}

// Request is one ssh request after validation.
type Request struct {
	Verb string // one of Verbs
	App  string // valid by render.ValidApp
}

// Push reports whether the request writes (a push), as opposed to a fetch.
func (r Request) Push() bool { return r.Verb == "git-receive-pack" }

// RequestError is a request the forced command refuses. Its message says
// what the user can do instead.
type RequestError struct{ Msg string }

func (e *RequestError) Error() string { return e.Msg }

// ParseRequest reads SSH_ORIGINAL_COMMAND as git sends it: VERB 'PATH', where
// PATH is APP, /APP, APP.git or /APP.git. Anything else (an empty command,
// another program, extra words, a path that is not a valid app name) is an
// error; nothing of it is ever run.
func ParseRequest(original string) (Request, error) {
	if original == "" {
		return Request{}, &RequestError{"interactive shell access is not allowed: use git push and git fetch with APP as the repository (git push nap@host:APP master)"}
	}
	verb, arg, ok := strings.Cut(original, " ")
	known := false
	for _, v := range Verbs {
		known = known || v == verb
	}
	if !ok || !known {
		return Request{}, &RequestError{fmt.Sprintf("command not allowed: %s: only git push and git fetch (%s) are served here", render.QuoteName(original), strings.Join(Verbs, ", "))}
	}
	// git quotes the path as one single-quoted word; an app name never holds
	// a quote, so a path with one inside is simply not an app.
	if len(arg) < 2 || arg[0] != '\'' || arg[len(arg)-1] != '\'' || strings.ContainsRune(arg[1:len(arg)-1], '\'') {
		return Request{}, &RequestError{fmt.Sprintf("bad repository argument %s: give the app name, as in git push nap@host:APP", render.QuoteName(arg))}
	}
	name := arg[1 : len(arg)-1]
	name = strings.TrimPrefix(name, "/")
	name = strings.TrimSuffix(name, ".git")
	if err := render.ValidApp(name); err != nil {
		return Request{}, &RequestError{err.Error()}
	}
	return Request{Verb: verb, App: name}, nil
}
