package dockerfile

import (
	"encoding/json"
	"slices"
	"strings"
)

// defaultShell is what shell form runs with when no SHELL is set.
var defaultShell = []string{"/bin/sh", "-c"}

// command reads CMD or ENTRYPOINT. Shell form becomes the stage's SHELL
// followed by the line, as Docker stores it in the image.
func (st *state) command(in *instruction) *Command {
	if in.json {
		return &Command{Args: slices.Clone(in.args)}
	}
	line := strings.Join(in.args, " ")
	if strings.HasPrefix(line, "[") && !json.Valid([]byte(line)) {
		st.img.Warnings = append(st.img.Warnings, Warning{Line: in.line, Message: strings.ToUpper(in.name) +
			" is not a valid JSON array, so it runs in shell form as " + `"` + line + `"` +
			`; write exec form with double quotes: ["executable", "arg"]`})
	}
	sh := st.shell
	if sh == nil {
		sh = defaultShell
	}
	args := make([]string, 0, len(sh)+1)
	return &Command{Args: append(append(args, sh...), line), Shell: true}
}

// Command is the argv the container runs with Docker's rules: an ENTRYPOINT
// in shell form ignores CMD; otherwise ENTRYPOINT followed by CMD. It is nil
// when the image sets neither.
func (im *Image) Command() []string {
	var argv []string
	if im.Entrypoint != nil {
		argv = append(argv, im.Entrypoint.Args...)
		if im.Entrypoint.Shell {
			return argv
		}
	}
	if im.Cmd != nil {
		argv = append(argv, im.Cmd.Args...)
	}
	return argv
}
