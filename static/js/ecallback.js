// E-callback pages: the "I have read" box unlocks once the disclosures were scrolled to the end.
// Without JavaScript the box is simply available (the server still requires it ticked).
document.addEventListener("DOMContentLoaded", function () {
  var box = document.getElementById("disclosure");
  var read = document.getElementById("disclosures-read");
  if (!box || !read) return;
  function atEnd() { return box.scrollTop + box.clientHeight >= box.scrollHeight - 4; }
  if (!atEnd()) {
    read.disabled = true;
    box.addEventListener("scroll", function () {
      if (atEnd()) read.disabled = false;
    });
  }
});
