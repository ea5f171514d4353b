package loadgen

import (
	"context"
	"fmt"
	"net/url"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// RabbitSink publishes jobs on one AMQP channel with publisher confirms, so
// a job counted as published is really in its queue.
type RabbitSink struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	timeout time.Duration
}

// NewRabbitSink dials amqpURL and declares the queues (durable, as the
// workers declare them). Errors name the host, never the credentials.
func NewRabbitSink(amqpURL string, queues []string) (*RabbitSink, error) {
	conn, err := amqp.DialConfig(amqpURL, amqp.Config{Dial: amqp.DefaultDial(10 * time.Second)})
	if err != nil {
		return nil, fmt.Errorf("dial RabbitMQ at %s: %w", RedactURL(amqpURL), err)
	}
	ch, err := conn.Channel()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("open channel: %w", err)
	}
	for _, q := range queues {
		if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
			conn.Close()
			return nil, fmt.Errorf("declare queue %q: %w", q, err)
		}
	}
	if err := ch.Confirm(false); err != nil {
		conn.Close()
		return nil, fmt.Errorf("enable publisher confirms: %w", err)
	}
	return &RabbitSink{conn: conn, ch: ch, timeout: 30 * time.Second}, nil
}

// PublishJobs implements JobSink: it publishes every job, then waits for
// all the broker's confirms.
func (s *RabbitSink) PublishJobs(ctx context.Context, jobs []QueuedJob) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	confirms := make([]*amqp.DeferredConfirmation, 0, len(jobs))
	for _, j := range jobs {
		c, err := s.ch.PublishWithDeferredConfirmWithContext(ctx, "", j.Queue, false, false, amqp.Publishing{
			ContentType: "application/json",
			Timestamp:   j.Job.EnqueuedAt,
			Body:        j.Job.Encode(),
		})
		if err != nil {
			return fmt.Errorf("publish to %q: %w", j.Queue, err)
		}
		confirms = append(confirms, c)
	}
	for i, c := range confirms {
		ok, err := c.WaitContext(ctx)
		if err != nil {
			return fmt.Errorf("wait for the confirm of a job on %q: %w", jobs[i].Queue, err)
		}
		if !ok {
			return fmt.Errorf("broker refused a job on %q", jobs[i].Queue)
		}
	}
	return nil
}

// Close closes the connection.
func (s *RabbitSink) Close() error { return s.conn.Close() }

// RedactURL returns u without its password, for errors and logs.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
