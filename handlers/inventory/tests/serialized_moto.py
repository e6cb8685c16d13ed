"""moto_server with every DynamoDB backend operation under one lock.

Stock moto 5.2.5 runs werkzeug with threaded=True and its DynamoDB backend takes no lock:
- put_item/update_item/delete_item evaluate the ConditionExpression and then write, with no
  lock between the two (a check-then-act race between request threads);
- transact_write_items deep-copies each touched table at its start and, when any action is
  cancelled, restores those copies (`self.tables[name] = original_table_state[name]`), which
  silently undoes every write other threads committed in between.
Real DynamoDB serializes conflicting transactions. This wrapper gives moto that property, so
tests check the handler's conditions rather than the emulator's races.
"""
import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend

_lock = threading.RLock()


def _serialized(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with _lock:
            return fn(*args, **kwargs)

    return wrapper


for _name in ("put_item", "get_item", "query", "scan", "update_item", "delete_item",
              "transact_write_items", "transact_get_items", "batch_write_item", "batch_get_item",
              "execute_statement", "execute_transaction"):
    if hasattr(DynamoDBBackend, _name):
        setattr(DynamoDBBackend, _name, _serialized(getattr(DynamoDBBackend, _name)))

from moto.server import main  # noqa: E402

main(sys.argv[1:])
