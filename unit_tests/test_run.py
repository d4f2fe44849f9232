import json

from airbyte_cdk.models import AirbyteMessage, AirbyteRecordMessage, Type

from source_twilio.run import serialize


def test_given_record_with_nulls_when_serialized_then_nulls_are_kept():
    message = AirbyteMessage(
        type=Type.RECORD,
        record=AirbyteRecordMessage(
            stream="messages", data={"sid": "SM1", "date_sent": None, "price": None}, emitted_at=1
        ),
    )
    assert json.loads(serialize(message)) == {
        "type": "RECORD",
        "record": {"stream": "messages", "data": {"sid": "SM1", "date_sent": None, "price": None}, "emitted_at": 1},
    }
