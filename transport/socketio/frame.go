package socketio

import (
	"encoding/binary"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
)

// sharedFrame is one broadcast of one or more messages, encoded once for
// all its recipients: the Engine.IO packets (and their binary attachments)
// that polling sessions queue, and the same messages already framed for
// WebSocket (for each, the text frame of the packet followed by one binary
// frame per attachment, all in one buffer), which every WebSocket
// recipient writes as is, in one write. Both are immutable once built and
// shared by every recipient.
type sharedFrame struct {
	msgs []outMsg
	wire []byte
}

// framesBuilt and eventsEncoded count the broadcasts framed for WebSocket
// and the events Emit encoded, so that tests can check that a broadcast is
// encoded once whatever its number of recipients.
var framesBuilt, eventsEncoded atomic.Uint64

// newSharedFrame frames msgs for WebSocket once, in order.
func newSharedFrame(msgs ...outMsg) *sharedFrame {
	size := 0
	for _, msg := range msgs {
		size += ws.MaxHeaderSize + len(msg.pkt)
		for _, a := range msg.atts {
			size += ws.MaxHeaderSize + len(a)
		}
	}
	wire := make([]byte, 0, size)
	for _, msg := range msgs {
		wire = appendFrame(wire, ws.OpText, msg.pkt)
		for _, a := range msg.atts {
			wire = appendFrame(wire, ws.OpBinary, a)
		}
	}
	framesBuilt.Add(1)
	return &sharedFrame{msgs: msgs, wire: wire}
}

// appendFrame appends an unmasked, final server frame carrying p.
func appendFrame(dst []byte, op ws.OpCode, p []byte) []byte {
	dst = append(dst, 0x80|byte(op))
	switch n := len(p); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, p...)
}

// writeShared is Socket.write for a broadcast: a connecting socket keeps
// the message for after its CONNECT packet, a connected one sends it.
func (s *Socket) writeShared(f *sharedFrame) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch s.state {
	case socketConnecting:
		for _, msg := range f.msgs {
			s.queuePendingLocked(msg)
		}
		return nil
	case socketConnected:
		if err := s.conn.sendShared(f); err != nil {
			return ErrDisconnected
		}
		return nil
	}
	return ErrDisconnected
}

// sendShared is conn.send for a broadcast: a WebSocket writes the shared
// frames, polling queues the shared packets.
func (c *conn) sendShared(f *sharedFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state != stateOpen {
		return errConnClosed
	}
	if c.ws != nil {
		return c.ws.writePreframedLocked(f.wire)
	}
	for _, msg := range f.msgs {
		if err := c.sendLocked(msg.pkt); err != nil {
			return err
		}
		for _, a := range msg.atts {
			if err := c.sendBinaryLocked(a); err != nil {
				return err
			}
		}
	}
	return nil
}

// writePreframedLocked writes bytes that are already WebSocket frames
// (writeWireLocked), unless the close frame was sent. frames is never
// modified nor retained, so it may be shared between connections. c.mu
// must be held.
func (w *wsConn) writePreframedLocked(frames []byte) error {
	if w.closeSent {
		return errConnClosed
	}
	return w.writeWireLocked(frames)
}

// Broadcasts to rooms of parallelSendMin recipients and more are written
// by several goroutines at once: one per parallelSendChunk recipients, at
// most GOMAXPROCS in all (the caller's included). A broadcast's cost is
// almost only its write system calls, one per WebSocket recipient (a few
// microseconds each on loopback), so a room of 100 is written in about
// half the time on two cores; a chunk of 32 writes costs far more than
// starting the goroutine that makes them. Each recipient is still written
// by exactly one goroutine, so the order of a socket's packets is kept, and
// Emit returns once every recipient was written: the goroutines a
// broadcast starts never outlive it.
const (
	parallelSendMin   = 64
	parallelSendChunk = 32
)

// sendAll writes f to every socket of targets.
func sendAll(targets []*Socket, f *sharedFrame) {
	workers := min(runtime.GOMAXPROCS(0), len(targets)/parallelSendChunk)
	if len(targets) < parallelSendMin || workers < 2 {
		for _, s := range targets {
			s.writeShared(f)
		}
		return
	}
	var wg sync.WaitGroup
	per := (len(targets) + workers - 1) / workers
	for i := per; i < len(targets); i += per {
		part := targets[i:min(i+per, len(targets))]
		wg.Go(func() {
			for _, s := range part {
				s.writeShared(f)
			}
		})
	}
	for _, s := range targets[:per] {
		s.writeShared(f)
	}
	wg.Wait()
}
