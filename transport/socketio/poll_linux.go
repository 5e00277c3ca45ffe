//go:build linux

package socketio

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// pollSys is an epoll instance plus an eventfd that wakes its waiter for
// Server.Shutdown.
//
// Connections are registered with EPOLLIN|EPOLLRDHUP|EPOLLONESHOT: once
// reported, a connection stays disarmed until its burst was handled and
// rearm modifies it back (level-triggered, so data that arrived meanwhile
// reports it at once). So at most one goroutine reads a connection, and
// frames are handled in order. Every epoll_ctl call runs inside
// RawConn.Control, which holds the descriptor open: it cannot act on a
// descriptor number that was closed and reused.
type pollSys struct {
	epfd, evfd int
}

const pollEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLONESHOT

func (s *pollSys) init() error {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	evfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN} // data 0: the wake-up id
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, evfd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(evfd)
		return err
	}
	s.epfd, s.evfd = epfd, evfd
	return nil
}

// wait calls ready with the id of each reported connection until ready
// returns false (the wake-up event) or epoll_wait fails.
func (s *pollSys) wait(ready func(id uint64) bool) error {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(s.epfd, events, -1)
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			return err
		}
		for i := range events[:n] {
			ev := &events[i]
			if !ready(uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32) {
				return nil
			}
		}
	}
}

// arm registers w (add) or re-arms it. It must not write to w: once armed,
// w belongs to whoever the kernel reports it to.
func (s *pollSys) arm(w *wsConn, add bool) error {
	op := unix.EPOLL_CTL_MOD
	if add {
		op = unix.EPOLL_CTL_ADD
	}
	ev := unix.EpollEvent{Events: pollEvents, Fd: int32(uint32(w.pid)), Pad: int32(uint32(w.pid >> 32))}
	var cerr error
	err := w.rc.Control(func(fd uintptr) {
		cerr = unix.EpollCtl(s.epfd, op, int(fd), &ev)
	})
	if err == nil {
		err = cerr
	}
	return err
}

// del unregisters w, if it was registered and is still open.
func (s *pollSys) del(w *wsConn) {
	if !w.added {
		return
	}
	w.added = false
	w.rc.Control(func(fd uintptr) {
		unix.EpollCtl(s.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	})
}

func (s *pollSys) wake() {
	var one = [8]byte{1}
	unix.Write(s.evfd, one[:])
}

func (s *pollSys) close() {
	unix.Close(s.epfd)
	unix.Close(s.evfd)
}

// sysRead reads what is available without blocking; errWouldBlock means
// nothing is.
func sysRead(rc syscall.RawConn, b []byte) (int, error) {
	var (
		n   int
		err error
	)
	cerr := rc.Read(func(fd uintptr) bool {
		for {
			n, err = unix.Read(int(fd), b)
			if err != unix.EINTR {
				return true
			}
		}
	})
	if cerr != nil {
		return 0, cerr
	}
	if err == unix.EAGAIN {
		return 0, errWouldBlock
	}
	if err != nil {
		return 0, err
	}
	return n, nil
}
