"""The block of a Markdown file that a benchmark script owns: the text between its two HTML comments."""
import os


def replace_block(target, name, block):
    """Writes `block` between `<!-- NAME:begin -->` and `<!-- NAME:end -->` in `target`, appending them if absent."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    text = open(target).read() if os.path.exists(target) else "# Benchmarks\n"
    if begin in text:
        text = text[:text.index(begin)] + begin + "\n" + block + "\n" + end + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + begin + "\n" + block + "\n" + end + "\n"
    open(target, "w").write(text)
