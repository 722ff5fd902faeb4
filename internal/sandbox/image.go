package sandbox

import (
	"context"
	"errors"
	"testing"
)

func (m *Machine) loadGoImage(ctx context.Context, t testing.TB) error {
	return errors.New("not implemented yet")
}
