"""Publishes message bodies to RabbitMQ exactly as PIXL's PixlProducer does (pika): the default exchange, routing key =
queue name, BasicProperties(delivery_mode=2) and nothing else. Used by the intake tests (Tests/PixlQueueTests).

usage: pika_publish.py --queue Q [--host H] [--port P] FILE…   (each file's bytes are one body, in the order given)
"""
import argparse
import os

import pika

parser = argparse.ArgumentParser()
parser.add_argument("--host", default=os.environ.get("RABBITMQ_HOST", "127.0.0.1"))
parser.add_argument("--port", type=int, default=int(os.environ.get("RABBITMQ_PORT", "5672")))
parser.add_argument("--queue", required=True)
parser.add_argument("files", nargs="*")
args = parser.parse_args()

credentials = pika.PlainCredentials(os.environ.get("RABBITMQ_USERNAME", "guest"), os.environ.get("RABBITMQ_PASSWORD", "guest"))
connection = pika.BlockingConnection(pika.ConnectionParameters(host=args.host, port=args.port, credentials=credentials))
channel = connection.channel()
channel.confirm_delivery()  # each publish returns once the broker has the message
for path in args.files:
    with open(path, "rb") as file:
        body = file.read()
    channel.basic_publish(exchange="", routing_key=args.queue, body=body, properties=pika.BasicProperties(delivery_mode=2))
connection.close()
print(f"published {len(args.files)}")
