package dockerfile

import (
	"errors"
	"io"
	"os"
)

// Parse reads the Dockerfile r (named name in errors) into the model of the
// stage that would be built.
func Parse(name string, r io.Reader, opts Options) (*Image, error) {
	return nil, &Error{File: name, Err: errors.New("not implemented")}
}

// ParseFile is Parse on a file, named by its base name in errors.
func ParseFile(path string, opts Options) (*Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Parse(path, f, opts)
}

// FromConfig reads the config of a built image, as a registry serves it
// (application/vnd.docker.container.image.v1+json or the OCI equivalent),
// into the same model, so settings inherited from a base image count.
// Only the runtime fields are filled: Ports, Env, Entrypoint, Cmd,
// Healthcheck, User, Workdir, Volumes, StopSignal, Labels.
func FromConfig(configJSON []byte) (*Image, error) {
	return nil, errors.New("not implemented")
}

// Command is the argv the container runs with Docker's rules: an ENTRYPOINT
// in shell form ignores CMD; otherwise ENTRYPOINT followed by CMD.
func (im *Image) Command() []string { return nil }
