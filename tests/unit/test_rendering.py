"""Plain-text email bodies become HTML blocks: paragraphs, lists, and kept line breaks."""

from reminders.adapters.rendering import Block, to_blocks


def test_paragraphs_lists_and_a_sign_off():
    text = (
        "Rest today.\n\n- Ice 15 minutes\n- Walk a little\n\nTake care,\nValley Spine\nPhone: 805"
    )
    assert to_blocks(text) == [
        Block(text="Rest today."),
        Block(items=("Ice 15 minutes", "Walk a little")),
        Block(text="Take care,\nValley Spine\nPhone: 805"),
    ]


def test_a_list_right_after_a_line_of_text():
    assert to_blocks("Call us if:\n- fever\n- redness") == [
        Block(text="Call us if:"),
        Block(items=("fever", "redness")),
    ]
