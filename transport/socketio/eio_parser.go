package socketio

import (
	"bytes"
	"encoding/base64"
	"errors"
)

// Engine.IO v4 packet types, as they appear on the wire.
const (
	eioOpen    byte = '0'
	eioClose   byte = '1'
	eioPing    byte = '2'
	eioPong    byte = '3'
	eioMessage byte = '4'
	eioUpgrade byte = '5'
	eioNoop    byte = '6'

	// eioBinaryPrefix marks a base64-encoded binary message in a polling payload.
	eioBinaryPrefix byte = 'b'
	// recordSeparator separates packets in an HTTP long-polling payload.
	recordSeparator byte = 0x1e
)

var (
	errEmptyPacket   = errors.New("socketio: empty engine.io packet")
	errUnknownPacket = errors.New("socketio: unknown engine.io packet type")
	errBadBase64     = errors.New("socketio: invalid base64 binary packet")
)

// enginePacket is one decoded Engine.IO packet.
//
// For text packets Data aliases the decoded input. Binary packets decoded from
// the base64 "b" form own their Data.
type enginePacket struct {
	Type   byte
	Data   []byte
	Binary bool
}

// decodeEnginePacket decodes a single Engine.IO packet. A binary WebSocket
// frame (binary == true) is always a message packet carrying raw bytes; a text
// packet starts with its type digit, or with 'b' followed by base64 data.
func decodeEnginePacket(b []byte, binary bool) (enginePacket, error) {
	if binary {
		return enginePacket{Type: eioMessage, Data: b, Binary: true}, nil
	}
	if len(b) == 0 {
		return enginePacket{}, errEmptyPacket
	}
	t := b[0]
	if t == eioBinaryPrefix {
		data, err := decodeBase64(b[1:])
		if err != nil {
			return enginePacket{}, err
		}
		return enginePacket{Type: eioMessage, Data: data, Binary: true}, nil
	}
	if t < eioOpen || t > eioNoop {
		return enginePacket{}, errUnknownPacket
	}
	p := enginePacket{Type: t}
	if len(b) > 1 {
		p.Data = b[1:]
	}
	return p, nil
}

func decodeBase64(src []byte) ([]byte, error) {
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(src))) // large enough for both forms
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		// Be lenient with encoders that drop the padding.
		n, err = base64.RawStdEncoding.Decode(dst, src)
		if err != nil {
			return nil, errBadBase64
		}
	}
	return dst[:n:n], nil
}

// appendEnginePacket appends the text encoding of an Engine.IO packet.
// Binary packets are encoded in the base64 "b" form used by HTTP long-polling.
func appendEnginePacket(dst []byte, p enginePacket) []byte {
	if p.Binary {
		dst = append(dst, eioBinaryPrefix)
		return base64.StdEncoding.AppendEncode(dst, p.Data)
	}
	dst = append(dst, p.Type)
	return append(dst, p.Data...)
}

// decodePayload splits an HTTP long-polling payload on the record separator
// and calls fn for every packet, in order. It stops at the first packet that
// cannot be decoded and returns the decoding error, or when fn returns false.
func decodePayload(payload []byte, fn func(enginePacket) bool) error {
	for {
		i := bytes.IndexByte(payload, recordSeparator)
		part := payload
		if i >= 0 {
			part = payload[:i]
		}
		p, err := decodeEnginePacket(part, false)
		if err != nil {
			return err
		}
		if !fn(p) {
			return nil
		}
		if i < 0 {
			return nil
		}
		payload = payload[i+1:]
	}
}

// appendPayload joins already encoded packets with the record separator.
func appendPayload(dst []byte, packets [][]byte) []byte {
	for i, p := range packets {
		if i > 0 {
			dst = append(dst, recordSeparator)
		}
		dst = append(dst, p...)
	}
	return dst
}
