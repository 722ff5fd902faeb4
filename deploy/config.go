package deploy

import (
	"errors"
	"io/fs"
	"os"

	"github.com/nap-paas/nap/render"
)

// DefaultConfig is where the operator's config lives unless told
// otherwise; no file there means every default.
const DefaultConfig = "/etc/nap/config.yaml"

// LoadOperator reads and parses the operator config at path, or at
// DefaultConfig when path is "" (where a missing file means all
// defaults; a path given must exist). Errors name the file and line; one
// of reading the file wraps the fs error (fs.ErrNotExist for a missing
// one).
func LoadOperator(path string) (render.Operator, error) {
	file := path
	if file == "" {
		file = DefaultConfig
	}
	data, err := os.ReadFile(file)
	if err != nil && !(path == "" && errors.Is(err, fs.ErrNotExist)) {
		return render.Operator{}, err
	}
	return render.ParseOperator(file, data)
}
