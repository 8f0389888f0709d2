// The catalogue's additions to mdBook (book.toml: additional-js).
//
// 1. Doc comments in the included Rust read as rustdoc renders them: "[`Guarded`]" shows as
//    "`Guarded`", and a markdown link shows as its text. The source keeps its intra-doc
//    links; the reader is spared their syntax.
// 2. Each `.side-by-side` pair is laid out in two columns when both code blocks fit in half
//    the width, and stacked otherwise. Without JavaScript the pair is stacked, which always
//    reads.
// 3. The asyncio → tokio tables are marked `map`, so their cells break only between words.
//
// When both are done, `<html data-catalogue="ready">` tells tests/tests/book.rs to look.
(function () {
    "use strict";

    const DOC_LINKS = [
        // [`Name`], [`Name`](path), [`Name`][reference]
        [/\[(`[^`\]]+`)\](?:\([^)\s]*\)|\[[^\]]*\])?/g, "$1"],
        // [text](target)
        [/\[([^\]]+)\]\([^)\s]+\)/g, "$1"],
    ];

    function renderDocLinks() {
        for (const comment of document.querySelectorAll("code.language-rust .hljs-comment")) {
            const walker = document.createTreeWalker(comment, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                let text = node.nodeValue;
                for (const [pattern, replacement] of DOC_LINKS) {
                    text = text.replace(pattern, replacement);
                }
                node.nodeValue = text;
            }
        }
    }

    function fits(pair) {
        return Array.from(pair.querySelectorAll("pre code")).every(
            (code) => code.scrollWidth <= code.clientWidth
        );
    }

    // The asyncio → tokio tables (a last column "shown in") keep their words whole; other
    // tables, such as the wide benchmark tables, may break a word to fit the column.
    function markMapTables() {
        for (const table of document.querySelectorAll("main table")) {
            const last = table.querySelector("thead th:last-child");
            if (last && last.textContent.trim() === "shown in") {
                table.classList.add("map");
            }
        }
    }

    function layOut() {
        for (const pair of document.querySelectorAll(".side-by-side")) {
            pair.classList.add("wide");
            if (!fits(pair)) {
                pair.classList.remove("wide");
            }
        }
    }

    let pending = null;
    window.addEventListener("resize", () => {
        cancelAnimationFrame(pending);
        pending = requestAnimationFrame(layOut);
    });
    // After highlighting and fonts, which both change what the code looks like.
    window.addEventListener("load", () => {
        renderDocLinks();
        markMapTables();
        const fonts = document.fonts ? document.fonts.ready : Promise.resolve();
        fonts.then(() => {
            layOut();
            document.documentElement.dataset.catalogue = "ready";
        });
    });
})();
