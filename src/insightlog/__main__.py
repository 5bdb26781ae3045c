"""``python -m insightlog``: the command line."""

from insightlog.cli.main import cli

if __name__ == "__main__":
    cli(prog_name="insightlog")
