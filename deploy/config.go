package deploy

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/nap-paas/nap/render"
)

// DefaultConfig is where the operator's config lives unless told
// otherwise; no file there means every default.
const DefaultConfig = "/etc/nap/config.yaml"

// LoadOperator reads and parses the operator config at path, or at
// DefaultConfig when path is "" (where a missing file means all
// defaults; a path given must exist). Errors name the file and line: a
// *render.ConfigError for a missing file or a wrong one, the fs error
// wrapped when the file cannot be read.
func LoadOperator(path string) (render.Operator, error) {
	file := path
	if file == "" {
		file = DefaultConfig
	}
	data, err := os.ReadFile(file)
	switch {
	case path == "" && errors.Is(err, fs.ErrNotExist):
	case errors.Is(err, fs.ErrNotExist):
		return render.Operator{}, &render.ConfigError{File: file, Msg: "no such file"}
	case err != nil:
		return render.Operator{}, fmt.Errorf("%s: %w", file, errors.Unwrap(err))
	}
	return render.ParseOperator(file, data)
}
