//go:build !linux

package socketio

import "syscall"

// pollSys has no implementation outside Linux: every WebSocket is read by
// a goroutine of its own.
type pollSys struct{}

func (s *pollSys) init() error                           { return errNoPoller }
func (s *pollSys) wait(ready func(id uint64) bool) error { return nil }
func (s *pollSys) arm(w *wsConn, add bool) error         { return errNoPoller }
func (s *pollSys) del(w *wsConn)                         {}
func (s *pollSys) wake()                                 {}
func (s *pollSys) close()                                {}
func sysRead(rc syscall.RawConn, b []byte) (int, error)  { return 0, errNoPoller }
