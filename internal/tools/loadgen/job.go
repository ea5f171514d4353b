package loadgen

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Job is one message on a model's queue: a batch of Requests API requests
// for one model, published at EnqueuedAt (real time). Batching lets one
// RabbitMQ on two cores carry a day compressed into minutes; the backlog in
// requests is messages times the batch size.
type Job struct {
	Model      string    `json:"model"`
	Requests   int       `json:"requests"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	// FirstAt and LastAt are the created_at of the job's first and last
	// request rows, so that a worker can record the outcome of exactly
	// those rows (the Requests oldest rows of Model between the two).
	FirstAt time.Time `json:"first_at,omitzero"`
	LastAt  time.Time `json:"last_at,omitzero"`
}

// Encode returns the message body of j.
func (j Job) Encode() []byte {
	b, _ := json.Marshal(j) // a struct of a string, an int and a time cannot fail
	return b
}

// DecodeJob parses a message body written by Encode.
func DecodeJob(body []byte) (Job, error) {
	var j Job
	if err := json.Unmarshal(body, &j); err != nil {
		return Job{}, fmt.Errorf("decode job %q: %w", truncate(body, 80), err)
	}
	if j.Requests <= 0 {
		return Job{}, errors.New("decode job: requests must be positive")
	}
	return j, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
