/* equiserve map layers (equiserve/outputs/maps/compact.py writes their data).
 *
 * EQ.blocks(grid, spec): blocks as one image overlay (coloured in Python on a Web Mercator
 *   pixel grid) and an invisible canvas "hit" layer that finds the block under the mouse
 *   (the same polynomial as the image: display Mercator -> the study's CRS -> block) and
 *   gives its tooltip or popup.
 * EQ.points(spec): points as canvas symbols (one shape and colour per layer), built the
 *   first time the layer is shown.
 * Values arrive HTML-escaped (Python's html.escape) and are inserted as such; labels too.
 */
(function () {
  "use strict";
  var EQ = (window.EQ = window.EQ || {});
  var css = document.createElement("style");  // block edges stay sharp when zoomed in
  css.textContent = ".eq-blocks{image-rendering:pixelated}";
  document.head.appendChild(css);

  function column(c, n) {  // a column: plain values, one value, or uniques and codes
    if (c.v) return c.v;
    var out = new Array(n);
    for (var i = 0; i < n; i++) out[i] = "k" in c ? c.k : c.u[c.c[i]];
    return out;
  }

  function undelta(d) {
    var out = new Array(d.length), s = 0;
    for (var i = 0; i < d.length; i++) { s += d[i]; out[i] = s; }
    return out;
  }

  function Table(spec) {  // the tooltip/popup rows of one overlay
    this.fields = spec.fields; this.labels = spec.labels; this.n = spec.n;
    this.cols = {};
    for (var i = 0; i < spec.fields.length; i++)
      this.cols[spec.fields[i]] = column(spec.cols[spec.fields[i]], spec.n);
  }
  Table.prototype.html = function (k) {
    var rows = "";
    for (var i = 0; i < this.fields.length; i++) {
      var v = this.cols[this.fields[i]][k];
      rows += "<tr><th>" + this.labels[i] + "</th><td>" + (v === null ? "" : v) + "</td></tr>";
    }
    var div = document.createElement("div");
    div.innerHTML = "<table>" + rows + "</table>";  // escaped values and labels
    return div;
  };
  EQ.Table = Table;

  function poly(p, x, y) {  // Poly.__call__ of raster.py
    var u = (x - p[0]) / p[2], v = (y - p[1]) / p[2], a = p[3], b = p[4];
    var X = 0, Y = 0, k = 0;
    for (var d = 0; d <= 3; d++)
      for (var i = d; i >= 0; i--) {
        var m = Math.pow(u, i) * Math.pow(v, d - i);
        X += a[k] * m; Y += b[k] * m; k++;
      }
    return [X, Y];
  }

  EQ.cellAt = function (grid, latlng) {  // grid cell under a point, -1 outside
    var p = L.CRS.EPSG3857.project(latlng), xy = poly(grid.g, p.x, p.y);
    var bx = Math.floor(xy[0] / grid.m) - grid.bx0, by = Math.floor(xy[1] / grid.m) - grid.by0;
    if (bx < 0 || by < 0 || bx >= grid.nx || by >= grid.ny) return -1;
    return bx * grid.ny + by;
  };

  EQ.cellCentre = function (grid, cell) {  // latlng of the centre of a grid cell
    var bx = Math.floor(cell / grid.ny) + grid.bx0, by = (cell % grid.ny) + grid.by0;
    var m = poly(grid.w, (bx + 0.5) * grid.m, (by + 0.5) * grid.m);
    return L.CRS.EPSG3857.unproject(L.point(m[0], m[1]));
  };

  // An invisible path on the map's canvas: the canvas renderer asks it whether the mouse is
  // over one of its blocks (and so gives it the tooltip over whatever lies below).
  var BlockHit = L.Path.extend({
    initialize: function (blocks) { this._blocks = blocks; this.options = L.extend({}, this.options); },
    _project: function () {}, _update: function () {}, _updatePath: function () {},
    _empty: function () { return false; },
    _containsPoint: function (p) {
      var k = this._blocks.featureAt(this._map.layerPointToLatLng(p));
      if (k >= 0) this._k = k;
      return k >= 0;
    }
  });

  EQ.blocks = function (grid, spec) {
    var table = new Table(spec), cells = undelta(spec.cells), index = null;
    var group = L.layerGroup();
    var image = L.imageOverlay(spec.img, spec.bounds, {opacity: spec.opacity,
                                                        className: "eq-blocks", interactive: false});
    var hit = new BlockHit(group);
    group.eqCount = spec.n; group.eqTable = table; group.eqCells = cells;
    group.featureAt = function (latlng) {
      if (index === null) {
        index = new Int32Array(grid.nx * grid.ny).fill(-1);
        for (var k = 0; k < cells.length; k++) index[cells[k]] = k;
      }
      var c = EQ.cellAt(grid, latlng);
      return c < 0 ? -1 : index[c];
    };
    group.centre = function (k) { return EQ.cellCentre(grid, cells[k]); };
    var content = function () { return table.html(hit._k); };
    if (spec.popup) hit.bindPopup(content);
    else {
      hit.bindTooltip(content, {sticky: true, className: "foliumtooltip"});
      hit.on("mousemove", function () {  // a new block under the same layer
        if (hit._shown !== hit._k && hit.isTooltipOpen()) hit.setTooltipContent(content());
        hit._shown = hit._k;
      });
      hit.on("mouseout", function () { hit._shown = -1; });
    }
    group.addLayer(image).addLayer(hit);
    return group;
  };

  EQ.area = function (spec) {  // areas of one colour as an image (palette 2k+1, 2k+2)
    var table = new Table(spec), g = spec.grid, mask = null, group = L.layerGroup();
    var image = L.imageOverlay(spec.img, spec.bounds, {className: "eq-blocks",
                                                        interactive: false});
    var hit = new BlockHit(group);
    group.eqCount = spec.n; group.eqTable = table;
    group.featureAt = function (latlng) {
      if (mask === null) return -1;
      var p = L.CRS.EPSG3857.project(latlng);
      var i = Math.floor((p.x - g[0]) / g[2]), j = Math.floor((g[1] - p.y) / g[2]);
      if (i < 0 || j < 0 || i >= g[3] || j >= g[4]) return -1;
      var v = mask[j * g[3] + i];
      return v ? (v - 1) >> 1 : -1;
    };
    group.on("add", function () {  // read the image's pixels once, for hovering
      if (mask !== null) return;
      var img = new Image();
      img.onload = function () {
        var c = document.createElement("canvas");
        c.width = g[3]; c.height = g[4];
        var ctx = c.getContext("2d", {willReadFrequently: true});
        ctx.drawImage(img, 0, 0);
        var rgba = ctx.getImageData(0, 0, g[3], g[4]).data, m = new Uint8Array(g[3] * g[4]);
        // palette alphas: inside 38, edge 230; the feature from the colour is not needed
        // for one feature, and several features of one layer share a colour
        for (var k = 0; k < m.length; k++) m[k] = rgba[4 * k + 3] ? 1 : 0;
        mask = m;
      };
      img.src = spec.img;
    });
    hit.bindTooltip(function () { return table.html(hit._k); },
                    {sticky: true, className: "foliumtooltip"});
    group.addLayer(image).addLayer(hit);
    return group;
  };

  // A canvas symbol: a circle marker (its hit area) drawn as the layer's shape.
  var Symbol = L.CircleMarker.extend({
    _updatePath: function () {
      var r = this._renderer, s = this.options.shape;
      if (!r._drawing || this._empty()) return;
      var ctx = r._ctx, p = this._point, k = this._radius;
      if (this.options.ring) {
        ctx.beginPath(); ctx.arc(p.x, p.y, k + 4, 0, 2 * Math.PI);
        ctx.fillStyle = "#fff"; ctx.fill(); ctx.lineWidth = 2; ctx.strokeStyle = "#000"; ctx.stroke();
      }
      if (!s) { r._updateCircle(this); return; }
      ctx.beginPath();
      for (var i = 0; i < s.length; i++) {
        var x = p.x + s[i][0] * k, y = p.y + s[i][1] * k;
        if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
      }
      ctx.closePath();
      r._fillStroke(ctx, this);
    }
  });

  EQ.points = function (spec) {
    var table = new Table(spec), group = L.featureGroup(), built = false;
    group.eqCount = spec.n; group.eqTable = table;
    group.build = function () {
      if (built) return;
      built = true;
      var lon = undelta(spec.lon), lat = undelta(spec.lat), st = spec.style;
      for (var k = 0; k < spec.n; k++) {
        var m = new Symbol([lat[k] / spec.scale, lon[k] / spec.scale], L.extend({}, st, {
          radius: spec.radius ? spec.radius[k] : st.radius}));
        m.eqIndex = k;
        group.addLayer(m);
      }
    };
    group.on("add", group.build);
    var content = function (layer) { return table.html(layer.eqIndex); };
    if (spec.popup) group.bindPopup(content);
    else group.bindTooltip(content, {sticky: true, className: "foliumtooltip"});
    return group;
  };
})();
